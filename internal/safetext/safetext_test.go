package safetext

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/bin/ls", "/bin/ls"},
		{"caf\u00e9 \u65e5\u672c", "caf\u00e9 \u65e5\u672c"},
		{"\x1b]0;owned\x07", `\x1b]0;owned\a`},
		{"a\nb\tc\r", `a\nb\tc\r`},
		{"back\\slash", `back\\slash`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"c1 \u009b csi", `c1 \u009b csi`},
		{"bidi \u202e", `bidi \u202e`},
		{"del \x7f", `del \x7f`},
		{"", ""},
	} {
		assert.Equal(t, tc.want, Escape(tc.in), "%q", tc.in)
	}
}

// Escaped text holds no byte below 0x20, no DEL, no C1 control and only valid UTF-8,
// whatever it started as.
func TestEscapeIsTerminalSafe(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		b := make([]byte, r.IntN(24))
		for j := range b {
			b[j] = byte(r.UintN(256))
		}
		out := Escape(string(b))
		require.True(t, utf8.ValidString(out), "%q", b)
		for _, c := range out {
			require.False(t, c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0), "%q -> %q", b, out)
		}
	}
}

// Every byte sequence becomes a valid JSON string; valid UTF-8 comes back unchanged.
func TestAppendJSONIsAlwaysValid(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		b := make([]byte, r.IntN(24))
		for j := range b {
			b[j] = byte(r.UintN(256))
		}
		out := AppendJSON(nil, string(b))
		require.True(t, json.Valid(out), "%q -> %s", b, out)
		var back string
		require.NoError(t, json.Unmarshal(out, &back))
		if utf8.Valid(b) {
			require.Equal(t, string(b), back)
		}
		for _, c := range out {
			require.False(t, c < 0x20, "raw control byte in %q", out)
		}
	}
	assert.Equal(t, `"a\"b\\c\n\u001b\ufffd\u2028"`, string(AppendJSON(nil, "a\"b\\c\n\x1b\xff\u2028")))
}

func TestWriterKeepsLines(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b)
	_, err := w.Write([]byte("a\tb\n\x1b[2Jc:\\d \u00e9\xff\n"))
	require.NoError(t, err)
	assert.Equal(t, "a\tb\n\\x1b[2Jc:\\d \u00e9\\xff\n", b.String())
}
