package kv

import "github.com/kinko-dev/kinko/internal/logical"

func (b *versionedBackend) pathDestroy() *logical.Path {
	return &logical.Path{
		Pattern: `destroy/` + logical.MatchAllRegex("path"),
		Fields:  versionsFields(),
		Operations: map[logical.Operation]logical.OperationFunc{
			logical.UpdateOperation: b.versionsOp("no version number provided", markDestroyed),
		},
		HelpSynopsis:    "Permanently remove versions of a secret.",
		HelpDescription: "Destroys the data of the given versions; their metadata stays, marked destroyed.",
	}
}

// markDestroyed marks versions destroyed and drops their data: the current
// version's lives in the record, older ones' keys are returned for deletion
// (also for versions already destroyed, so leftovers of an interrupted
// non-transactional write are cleaned up).
func markDestroyed(m *secretMeta, nums []uint64, _ int64, _ *engineConfig) []uint64 {
	var drop []uint64
	for _, n := range nums {
		v := m.version(n)
		if v == nil {
			continue
		}
		v.Destroyed = true
		if n == m.Current {
			m.Data = nil
		} else {
			drop = append(drop, n)
		}
	}
	return drop
}
