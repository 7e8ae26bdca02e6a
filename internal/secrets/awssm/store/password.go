package store

import (
	"crypto/rand"
	"io"
	"strings"
)

// Punctuation is the punctuation set of GetRandomPassword.
const Punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

const (
	lowerChars = "abcdefghijklmnopqrstuvwxyz"
	upperChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digitChars = "0123456789"
	// maxPasswordTries bounds the rejection sampling of passwords missing
	// a required type; even the worst allowed case needs far fewer.
	maxPasswordTries = 1 << 20
)

// GetRandomPasswordInput is the input of GetRandomPassword.
type GetRandomPasswordInput struct {
	PasswordLength          *int64 // 1-4096, default 32
	ExcludeCharacters       string
	ExcludeNumbers          bool
	ExcludePunctuation      bool
	ExcludeUppercase        bool
	ExcludeLowercase        bool
	IncludeSpace            bool
	RequireEachIncludedType *bool // default true
}

// GetRandomPasswordOutput is the output of GetRandomPassword.
type GetRandomPasswordOutput struct {
	RandomPassword string
}

// GetRandomPassword draws a password uniformly from the allowed
// characters with crypto/rand. With RequireEachIncludedType (the default)
// it holds at least one character of every included type (lower case,
// upper case, digit, punctuation); such passwords are drawn uniformly by
// rejecting those that miss a type.
func GetRandomPassword(in GetRandomPasswordInput) (*GetRandomPasswordOutput, error) {
	return randomPassword(rand.Reader, in)
}

func randomPassword(r io.Reader, in GetRandomPasswordInput) (*GetRandomPasswordOutput, error) {
	n := int64(32)
	if in.PasswordLength != nil {
		n = *in.PasswordLength
	}
	if n < 1 || n > 4096 {
		return nil, errParam("PasswordLength must be between 1 and 4096.")
	}
	if len(in.ExcludeCharacters) > 4096 {
		return nil, errParam("ExcludeCharacters must be at most 4096 characters long.")
	}
	classes := passwordClasses(in)
	charset := strings.Join(classes, "")
	if in.IncludeSpace && !strings.ContainsRune(in.ExcludeCharacters, ' ') {
		charset += " "
	}
	if charset == "" {
		return nil, errParam("The password can't be generated: every character is excluded.")
	}
	require := in.RequireEachIncludedType == nil || *in.RequireEachIncludedType
	if !require {
		classes = nil
	}
	if int64(len(classes)) > n {
		return nil, errParam("Password length is too short based on the required types.")
	}
	for range maxPasswordTries {
		p, err := randomString(r, charset, int(n))
		if err != nil {
			return nil, err
		}
		if hasEach(p, classes) {
			return &GetRandomPasswordOutput{RandomPassword: p}, nil
		}
	}
	return nil, errorf(CodeInternalService, "Could not generate a password with the required types.")
}

// passwordClasses returns the non-empty included character classes after
// exclusions.
func passwordClasses(in GetRandomPasswordInput) []string {
	var out []string
	add := func(excluded bool, set string) {
		if excluded {
			return
		}
		kept := strings.Map(func(r rune) rune {
			if strings.ContainsRune(in.ExcludeCharacters, r) {
				return -1
			}
			return r
		}, set)
		if kept != "" {
			out = append(out, kept)
		}
	}
	add(in.ExcludeLowercase, lowerChars)
	add(in.ExcludeUppercase, upperChars)
	add(in.ExcludeNumbers, digitChars)
	add(in.ExcludePunctuation, Punctuation)
	return out
}

func hasEach(p string, classes []string) bool {
	for _, c := range classes {
		if !strings.ContainsAny(p, c) {
			return false
		}
	}
	return true
}
