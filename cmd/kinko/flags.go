package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// normalizeArgs lets Vault users type single-dash long flags: "-name" and
// "-name=value" become "--name" and "--name=value" before cobra parses them.
// It walks the command tree as cobra will, so it knows which flags take a
// value: the argument after such a flag is copied untouched even when it
// starts with a dash ("-cas -1"). Single-letter flags ("-h"), a lone "-"
// (read stdin) and everything after "--" are left alone.
func normalizeArgs(root *cobra.Command, args []string) []string {
	out := make([]string, 0, len(args))
	cmd := root
	descending := true
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			if sub := subcommand(cmd, a); descending && sub != nil {
				cmd = sub
			} else {
				descending = false
			}
			out = append(out, a)
			continue
		}
		name, hasValue := flagName(a)
		if len(name) > 1 && !strings.HasPrefix(a, "--") {
			a = "-" + a
		}
		out = append(out, a)
		if f := lookupFlag(cmd, name); f != nil && !hasValue && f.NoOptDefVal == "" && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// flagName returns the name of a flag argument and whether it carries its
// value after "=".
func flagName(arg string) (string, bool) {
	name := strings.TrimLeft(arg, "-")
	name, _, hasValue := strings.Cut(name, "=")
	return name, hasValue
}

func subcommand(cmd *cobra.Command, name string) *cobra.Command {
	for _, sub := range cmd.Commands() {
		if sub.Name() == name || sub.HasAlias(name) {
			return sub
		}
	}
	return nil
}

// lookupFlag finds a long or shorthand flag on cmd or inherited from its
// parents.
func lookupFlag(cmd *cobra.Command, name string) *pflag.Flag {
	find := func(fs *pflag.FlagSet) *pflag.Flag {
		if len(name) == 1 {
			return fs.ShorthandLookup(name)
		}
		return fs.Lookup(name)
	}
	if f := find(cmd.Flags()); f != nil {
		return f
	}
	for c := cmd; c != nil; c = c.Parent() {
		if f := find(c.PersistentFlags()); f != nil {
			return f
		}
	}
	return nil
}
