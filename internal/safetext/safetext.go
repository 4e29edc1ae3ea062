// Package safetext makes untrusted text safe to show on a terminal and to write as JSON.
// Untrusted text is whatever a guest or a file controls: file names, an ELF's interpreter
// path, VMA names, command-line words. Written raw, an escape sequence in a file name could
// set a terminal's title or move its cursor; a stray byte could make a JSON line invalid.
//
// It knows nothing of the emulator: it is about bytes and terminals.
package safetext

import (
	"io"
	"strconv"
	"unicode/utf8"
)

// Escape returns s with everything a terminal might act on written out as Go escapes:
// control characters (C0, DEL and C1) as \n, \t, \x1b, \u009b and the like, other
// non-printable runes (bidirectional overrides, for one) as \uXXXX, each byte that is not
// valid UTF-8 as \xHH, and the backslash as \\ so the escaping is unambiguous. Printable
// text, non-ASCII letters included, is kept. A string that needs nothing is returned as is.
func Escape(s string) string {
	if clean(s) {
		return s
	}
	return string(AppendEscaped(make([]byte, 0, len(s)+8), s))
}

// AppendEscaped appends Escape(s) to b.
func AppendEscaped(b []byte, s string) []byte { return appendEscaped(b, s, false) }

// appendEscaped escapes s; lines keeps newlines and tabs (and, with them, backslashes).
func appendEscaped(b []byte, s string, lines bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && (c != '\\' || lines) || lines && (c == '\n' || c == '\t') {
			b = append(b, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\x`...)
			b = append(b, hex[c>>4], hex[c&15])
		case r == '\\' && !lines:
			b = append(b, `\\`...)
		case r >= 0x80 && strconv.IsPrint(r):
			b = append(b, s[i:i+size]...)
		default:
			q := strconv.QuoteRuneToASCII(r) // 'x', '\n', '\x1b', '\u202e'
			b = append(b, q[1:len(q)-1]...)
		}
		i += size
	}
	return b
}

func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

const hex = "0123456789abcdef"

// AppendJSON appends s as a JSON string, quotes included, valid for every byte sequence:
// '"', '\\' and control characters are escaped (\n, \t, \u001b), U+2028 and U+2029 too
// (so the line is also valid JavaScript), and each byte that is not valid UTF-8 becomes
// U+FFFD, as Go's encoding/json writes it. Valid UTF-8 text is kept as it is.
func AppendJSON(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, `\n`...)
			case c == '\r':
				b = append(b, `\r`...)
			case c == '\t':
				b = append(b, `\t`...)
			case c < 0x20 || c == 0x7f:
				b = append(b, `\u00`...)
				b = append(b, hex[c>>4], hex[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029' || (r >= 0x80 && r < 0xa0):
			b = append(b, `\u`...)
			b = append(b, hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// NewWriter returns a writer that passes text to w with newlines and tabs kept and
// everything else a terminal might act on escaped as Escape does (backslashes are kept: the
// text is for reading, not for parsing back). Text that needs nothing is passed through
// untouched. For output made of lines that may hold untrusted names, such as a debugger's.
func NewWriter(w io.Writer) io.Writer { return &writer{w: w} }

type writer struct{ w io.Writer }

func (x *writer) Write(p []byte) (int, error) {
	for _, c := range p {
		if (c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f {
			_, err := x.w.Write(appendEscaped(nil, string(p), true))
			return len(p), err
		}
	}
	return x.w.Write(p)
}
