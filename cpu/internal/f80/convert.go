package f80

import "math/bits"

// Conversions between the extended format and the memory formats (SDM Vol. 1, 4.2 and
// 8.2): single and double precision, 16/32/64-bit integers and 18-digit packed BCD.

// FromFloat32 converts a single-precision value (FLD m32fp). The conversion is exact: a
// denormal raises DE and is normalized; an SNaN raises IE and is quieted.
func FromFloat32(v uint32) (F80, uint16) {
	return loadIEEE(fromIEEE(uint64(v), 23, 8, 127))
}

// FromFloat64 converts a double-precision value (FLD m64fp).
func FromFloat64(v uint64) (F80, uint16) {
	return loadIEEE(fromIEEE(v, 52, 11, 1023))
}

// ExtendFloat32 converts a single-precision operand of an arithmetic instruction (FADD
// m32fp...): exactly, an SNaN staying an SNaN for the operation's NaN rules. The flags are
// DE for a denormal.
func ExtendFloat32(v uint32) (F80, uint16) { return fromIEEE(uint64(v), 23, 8, 127) }

// ExtendFloat64 is ExtendFloat32 for double precision.
func ExtendFloat64(v uint64) (F80, uint16) { return fromIEEE(v, 52, 11, 1023) }

func loadIEEE(r F80, flags uint16) (F80, uint16) {
	if r.Class() == SNaN {
		return quiet(r), IE
	}
	return r, flags
}

func fromIEEE(v uint64, fracBits, expBits uint, ebias int32) (F80, uint16) {
	neg := v>>(fracBits+expBits) != 0
	e := int32(v >> fracBits & (1<<expBits - 1))
	frac := v & (1<<fracBits - 1)
	var sign uint16
	if neg {
		sign = signBit
	}
	switch {
	case e == 1<<expBits-1:
		return F80{Mant: intBit | frac<<(63-fracBits), SE: sign | maxExp}, 0
	case e == 0 && frac == 0:
		return F80{SE: sign}, 0
	case e == 0:
		lz := uint(bits.LeadingZeros64(frac))
		exp := 1 - ebias - int32(lz-(63-fracBits))
		return F80{Mant: frac << lz, SE: sign | uint16(exp+bias)}, DE
	}
	return F80{Mant: intBit | frac<<(63-fracBits), SE: sign | uint16(e-ebias+bias)}, 0
}

// ToFloat32 converts a to single precision (FST m32fp), rounding as cw's RC says (the
// precision control does not apply). With OE or UE unmasked the CPU stores nothing; the
// flags tell it so.
func ToFloat32(a F80, cw uint16) (uint32, uint16) {
	v, f := toIEEE(a, cw, singleFormat, 23, 8)
	return uint32(v), f
}

// ToFloat64 converts a to double precision (FST m64fp).
func ToFloat64(a F80, cw uint16) (uint64, uint16) {
	return toIEEE(a, cw, doubleFormat, 52, 11)
}

func toIEEE(a F80, cw uint16, f format, fracBits, expBits uint) (uint64, uint16) {
	var sign uint64
	if a.Neg() {
		sign = 1 << (fracBits + expBits)
	}
	expAll := uint64(1<<expBits-1) << fracBits
	var flags uint16
	switch a.Class() {
	case Unsupported:
		return 1<<(fracBits+expBits) | expAll | 1<<(fracBits-1), IE
	case SNaN:
		a, flags = quiet(a), IE
		fallthrough
	case QNaN:
		return sign | expAll | a.Mant<<1>>(64-fracBits), flags
	case Infinity:
		return sign | expAll, 0
	case Zero:
		return sign, 0
	}
	x := unpack(a)
	r := roundTo(x.neg, x.exp, x.mant, 0, f, cw)
	if r.exp >= f.maxBiased || r.exp < 0 { // infinity (or an unmasked response, not stored)
		return sign | expAll, r.flags
	}
	return sign | uint64(r.exp)<<fracBits | r.mant<<1>>(64-fracBits), r.flags
}

// FromInt64 converts an integer exactly (FILD).
func FromInt64(v int64) F80 {
	if v == 0 {
		return PosZero
	}
	var sign uint16
	m := uint64(v)
	if v < 0 {
		sign, m = signBit, -m
	}
	lz := bits.LeadingZeros64(m)
	return F80{Mant: m << uint(lz), SE: sign | uint16(bias+63-lz)}
}

// ToInt converts a to a signed integer of size bytes (2, 4 or 8) for FIST/FISTP (rounding
// as cw says) or FISTTP (chop: truncating). A NaN, an infinity or a value out of range
// raises IE and gives the integer indefinite (the most negative integer).
func ToInt(a F80, size int, cw uint16, chop bool) (uint64, uint16) {
	indefinite := uint64(1) << (uint(size)*8 - 1)
	ca := a.Class()
	switch ca {
	case Unsupported, SNaN, QNaN, Infinity:
		return indefinite, IE
	case Zero:
		return 0, 0
	}
	rc := cw & RCMask
	if chop {
		rc = RCChop
	}
	x := unpack(a)
	mag, inexact, up, ok := toIntValue(x, rc)
	limit := indefinite - 1
	if x.neg {
		limit = indefinite
	}
	if !ok || mag > limit {
		return indefinite, IE
	}
	var flags uint16
	if inexact {
		flags |= PE
	}
	if up {
		flags |= C1
	}
	if x.neg {
		mag = -mag
	}
	return mag & (indefinite<<1 - 1), flags
}

// BCDIndefinite is the packed BCD integer indefinite FBSTP stores for an invalid
// operation: bytes 9..0 = FF FF C0 00 ... 00.
var BCDIndefinite = [10]byte{7: 0xc0, 8: 0xff, 9: 0xff}

// FromBCD converts an 18-digit packed BCD integer (FBLD): bytes 0-8 hold the digits, two
// to a byte, least significant first; bit 7 of byte 9 is the sign. Digits above 9 (whose
// result the SDM leaves undefined) are weighted like valid ones.
func FromBCD(b [10]byte) F80 {
	var v uint64
	for i := 8; i >= 0; i-- {
		v = v*10 + uint64(b[i]>>4)
		v = v*10 + uint64(b[i]&15)
	}
	r := FromInt64(int64(v))
	if b[9]&0x80 != 0 {
		r.SE |= signBit
	}
	return r
}

// ToBCD converts a to an 18-digit packed BCD integer (FBSTP), rounding as cw says. A NaN,
// an infinity or a magnitude of 10^18 or more raises IE and gives BCDIndefinite.
func ToBCD(a F80, cw uint16) ([10]byte, uint16) {
	var out [10]byte
	ca := a.Class()
	switch ca {
	case Unsupported, SNaN, QNaN, Infinity:
		return BCDIndefinite, IE
	}
	var flags uint16
	var mag uint64
	if ca != Zero {
		var inexact, up, ok bool
		mag, inexact, up, ok = toIntValue(unpack(a), cw&RCMask)
		if !ok || mag >= 1e18 {
			return BCDIndefinite, IE
		}
		if inexact {
			flags |= PE
		}
		if up {
			flags |= C1
		}
	}
	for i := 0; i < 9; i++ {
		lo := mag % 10
		mag /= 10
		hi := mag % 10
		mag /= 10
		out[i] = byte(hi<<4 | lo)
	}
	if a.Neg() {
		out[9] = 0x80
	}
	return out, flags
}

// Relation is the outcome of a comparison.
type Relation uint8

// Relations.
const (
	Greater Relation = iota
	Less
	Equal
	Unordered
)

// Compare compares a with b (FCOM, FUCOM, FCOMI, FUCOMI, FTST, FICOM). Unsupported
// operands and SNaNs always raise IE; QNaNs raise IE only when signaling (FCOM, FCOMI)
// and not for the unordered compares (FUCOM, FUCOMI). Denormal operands raise DE.
func Compare(a, b F80, signaling bool) (Relation, uint16) {
	ca, cb := a.Class(), b.Class()
	switch {
	case ca == Unsupported || cb == Unsupported || ca == SNaN || cb == SNaN:
		return Unordered, IE
	case ca == QNaN || cb == QNaN:
		if signaling {
			return Unordered, IE
		}
		return Unordered, 0
	}
	flags := denormalFlag(ca, cb)
	if ca == Zero && cb == Zero {
		return Equal, flags
	}
	if a.Neg() != b.Neg() {
		if a.Neg() {
			return Less, flags
		}
		return Greater, flags
	}
	// Same sign: compare magnitudes.
	mag := cmpMag(a, ca, b, cb)
	if a.Neg() {
		mag = -mag
	}
	switch {
	case mag < 0:
		return Less, flags
	case mag > 0:
		return Greater, flags
	}
	return Equal, flags
}

// cmpMag compares |a| with |b| for finite or infinite values.
func cmpMag(a F80, ca Class, b F80, cb Class) int {
	switch {
	case ca == Infinity && cb == Infinity:
		return 0
	case ca == Infinity:
		return 1
	case cb == Infinity:
		return -1
	case ca == Zero:
		return -1
	case cb == Zero:
		return 1
	}
	x, y := unpack(a), unpack(b)
	switch {
	case x.exp != y.exp:
		if x.exp < y.exp {
			return -1
		}
		return 1
	case x.mant != y.mant:
		if x.mant < y.mant {
			return -1
		}
		return 1
	}
	return 0
}

// Examine is FXAM: it returns C3, C2, C0 (and C1 = the sign) classifying a. The CPU
// reports an empty register itself (C3 C0).
func Examine(a F80) uint16 {
	f := uint16(0)
	if a.Neg() {
		f |= C1
	}
	switch a.Class() {
	case Unsupported:
	case QNaN, SNaN:
		f |= C0
	case Normal:
		f |= C2
	case Infinity:
		f |= C2 | C0
	case Zero:
		f |= C3
	case Denormal, PseudoDenormal:
		f |= C3 | C2
	}
	return f
}
