package inmem_test

import (
	"testing"

	"github.com/kinko-dev/kinko/internal/storage/inmem"
	"github.com/kinko-dev/kinko/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Suite(t, inmem.New())
}
