package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// readSecret reads one secret value (an unseal key, a token). On a terminal
// it prompts on stderr and reads without echo; otherwise it reads one line
// from stdin, so `kinko operator unseal < key.txt` works.
func (c *cli) readSecret(prompt string) (string, error) {
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(c.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", fmt.Errorf("reading from terminal: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if c.stdin == nil {
		return "", errors.New("no standard input to read from")
	}
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading standard input: %w", err)
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return "", errors.New("nothing was read from standard input")
	}
	return line, nil
}
