package audit

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// chain is the running state of a device's hash chain: the sequence number
// and HMAC of the last line written.
type chain struct {
	key []byte
	mac hasher // keyed with key
	seq uint64
	// buf is the HMAC of the last line (HashPrefix + hex) once seq > 0.
	buf [len(HashPrefix) + 2*sha256.Size]byte
}

// LineMAC is the chain HMAC of one line (without its newline): what the
// next line carries as prev_hmac, and what a device head reports.
func LineMAC(key, line []byte) string { return lineMAC(key, line) }

// lineMAC is the chain HMAC of one line (without its newline).
func lineMAC(key, line []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(line)
	var sum [sha256.Size]byte
	return HashPrefix + hex.EncodeToString(m.Sum(sum[:0]))
}

// link appends the next seq and prev_hmac to a formatted JSON object (which
// must end in '}'), in place, and returns the finished line.
func (c *chain) link(body []byte) []byte {
	line := body[:len(body)-1]
	line = append(line, `,"seq":`...)
	line = strconv.AppendUint(line, c.seq+1, 10)
	line = append(line, `,"prev_hmac":"`...)
	if c.seq > 0 {
		line = append(line, c.buf[:]...)
	}
	line = append(line, `"}`...)
	return line
}

// advance records that line was written.
func (c *chain) advance(line []byte) {
	c.seq++
	c.mac.appendMAC(c.buf[:0], line)
}

// head returns the chain position.
func (c *chain) head() Head {
	if c.seq == 0 {
		return Head{}
	}
	return Head{Seq: c.seq, HMAC: string(c.buf[:])}
}

// resume continues the chain after the existing last lines of a log
// (before is the line before last, nil if last is the first). The last
// link must verify under this chain's key: a log written by another
// device (another key) is not continued.
func (c *chain) resume(before, last []byte) error {
	var l linkFields
	if err := json.Unmarshal(last, &l); err != nil || l.Seq == 0 {
		return fmt.Errorf("audit: the last line of the log is not a kinko audit entry")
	}
	if before != nil && !hmac.Equal([]byte(l.Prev), []byte(lineMAC(c.key, before))) {
		return fmt.Errorf("audit: the log holds another device's audit chain; move it away or use a new file")
	}
	c.seq = l.Seq
	copy(c.buf[:], lineMAC(c.key, last))
	return nil
}

type linkFields struct {
	Seq  uint64 `json:"seq"`
	Prev string `json:"prev_hmac"`
}

// Head is the position of a device's chain: the last sequence number and
// the HMAC of the last line.
type Head struct {
	Seq  uint64
	HMAC string
}

// Report is the outcome of Verify.
type Report struct {
	// Lines is the number of lines read.
	Lines int
	// Broken is the 1-based line number of the first line that does not
	// follow its predecessor (0 when the chain is whole); Reason says why.
	Broken int
	Reason string
	// FirstSeq is the seq of the first line (1 unless the log continues a
	// rotated file); Last is the chain head after the last line.
	FirstSeq uint64
	Last     Head
	// Restarts lists lines that start a new chain (seq 1 after other
	// lines): a device that could not continue an earlier chain.
	Restarts []int
}

// Verify checks the hash chain of the audit lines read from r under key.
// If prev is not nil the log must continue from it (a rotated file's
// head). It stops at the first break.
func Verify(r io.Reader, key []byte, prev *Head) (*Report, error) {
	rep := &Report{}
	br := bufio.NewReaderSize(r, 64<<10)
	var last Head
	if prev != nil {
		last = *prev
	}
	for {
		line, err := br.ReadBytes('\n')
		if len(line) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		rep.Lines++
		if reason := checkLink(line, key, &last, rep); reason != "" {
			rep.Broken, rep.Reason = rep.Lines, reason
			return rep, nil
		}
	}
	rep.Last = last
	return rep, nil
}

// checkLink verifies one line against the head before it and advances the
// head; it returns why the line breaks the chain, or "".
func checkLink(line, key []byte, last *Head, rep *Report) string {
	var l linkFields
	if err := json.Unmarshal(line, &l); err != nil || l.Seq == 0 {
		return "not an audit entry with a seq and prev_hmac (edited or corrupted line)"
	}
	first := rep.Lines == 1
	if first {
		rep.FirstSeq = l.Seq
	}
	switch {
	case l.Seq == 1 && l.Prev == "":
		if !first || last.Seq > 0 {
			rep.Restarts = append(rep.Restarts, rep.Lines)
		}
	case first && last.Seq == 0:
		// The log starts mid-chain (an earlier file was rotated away);
		// its first line is taken on trust.
	case l.Seq <= last.Seq:
		return fmt.Sprintf("seq %d follows seq %d: lines repeated or out of order", l.Seq, last.Seq)
	case l.Seq != last.Seq+1:
		return fmt.Sprintf("seq %d follows seq %d: %d line(s) missing or reordered", l.Seq, last.Seq, missing(l.Seq, last.Seq))
	case !hmac.Equal([]byte(l.Prev), []byte(last.HMAC)):
		return fmt.Sprintf("prev_hmac does not match the line before (seq %d): that line was edited or this one was", last.Seq)
	}
	last.Seq, last.HMAC = l.Seq, lineMAC(key, line)
	return ""
}

func missing(seq, last uint64) int64 {
	return int64(seq) - int64(last) - 1
}
