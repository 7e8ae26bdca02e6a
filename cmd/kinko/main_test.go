package main

import (
	"os"
	"testing"
)

// TestMain lets tests run this package's test binary as the kinko command
// itself, in a process of its own: with KINKO_TEST_MAIN=1 it is main().
func TestMain(m *testing.M) {
	if os.Getenv("KINKO_TEST_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}
