// Command kinko is the kinko server and its command-line client.
//
// main only wires: the command tree lives in root.go and the cmd_*.go
// files, the server command in server.go. The client commands mirror the
// Vault CLI (same subcommands, flags, output and exit codes) and talk to
// the server through the public package github.com/kinko-dev/kinko/api.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], newCLI(os.Stdin, os.Stdout, os.Stderr, os.Getenv))
	stop()
	os.Exit(code)
}
