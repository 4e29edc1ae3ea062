package loader

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// FormatError reports an ELF file that cannot be loaded, naming what is wrong and where.
// Its text reads like Go's debug/elf errors:
//
//	elf: phdr[2].p_align 0x1001 is not a power of two (at offset 0xe0)
type FormatError struct {
	Offset int64  // file offset of the offending field; -1 if the problem has no one place
	Field  string // the field, as the ELF specification names it: "e_machine", "phdr[2].p_align"; may be ""
	Value  any    // the bad value, or nil
	Msg    string // what is wrong with it
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("elf: ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteByte(' ')
	}
	if e.Value != nil {
		b.WriteString(formatValue(e.Value))
		b.WriteByte(' ')
	}
	b.WriteString(e.Msg)
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " (at offset %#x)", e.Offset)
	}
	return b.String()
}

// formatValue prints integers in hex, strings and bytes quoted, and debug/elf's named
// constants as "EM_386 (0x3)" (or just the hex number when the value has no name).
func formatValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case []byte:
		return strconv.Quote(string(v))
	case fmt.Stringer:
		var n uint64
		switch rv := reflect.ValueOf(v); {
		case rv.CanUint():
			n = rv.Uint()
		case rv.CanInt() && rv.Int() >= 0: // elf.ProgType is an int
			n = uint64(rv.Int())
		default:
			return v.String()
		}
		name := v.String()
		// debug/elf names an unknown value as a decimal number or as "NAME+delta".
		if name == "" || strings.ContainsRune(name, '+') || name == strconv.FormatUint(n, 10) {
			return fmt.Sprintf("%#x", n)
		}
		return fmt.Sprintf("%s (%#x)", name, n)
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.CanUint():
		return fmt.Sprintf("%#x", rv.Uint())
	case rv.CanInt():
		return fmt.Sprintf("%#x", rv.Int())
	}
	return fmt.Sprint(v)
}

// fieldError builds a FormatError; msg is a format string for args.
func fieldError(off int64, field string, value any, msg string, args ...any) *FormatError {
	return &FormatError{Offset: off, Field: field, Value: value, Msg: fmt.Sprintf(msg, args...)}
}
