/* x87_printf: formats doubles the way a libc printf does on x86-64, through long double
   (x87) arithmetic: the value is loaded into an 80-bit register, split into its integer
   part (FISTTP) and fraction, and the fraction's digits come out of repeated
   multiplications by 10, each exact in the 64-bit significand (musl's fmt_fp works in
   long double too). Large values are brought below 10^18 by divisions by 10 and FSCALE.
   It prints the exact decimal expansion, a 17-significant-digit rounding of it, and the
   long double sums and products of the values, so every x87 rounding on the way shows in
   the output. */
#include "x87case.h"

typedef long double ld;

static ld load64(u64 bits) {
	ld r;
	__asm__("fldl %1" : "=t"(r) : "m"(bits));
	return r;
}

static ld ten(void) {
	ld r;
	i64 t = 10;
	__asm__("fildll %1" : "=t"(r) : "m"(t));
	return r;
}

/* trunc64 converts with truncation (FISTTP). */
static u64 trunc64(ld x) {
	u64 v;
	__asm__("fisttpll %0" : "=m"(v) : "t"(x) : "st");
	return v;
}

static ld fromu64(u64 v) {
	ld r;
	__asm__("fildll %1" : "=t"(r) : "m"(v));
	return r;
}

static int is_neg(ld x) {
	u80 v;
	__asm__("fstpt %0" : "=m"(v) : "t"(x) : "st");
	return v.se >> 15;
}

static char digits[2048];

/* expand writes the exact decimal expansion of |x| (x finite, |x| < 2^1024) into digits
   and returns its length; *point is the number of digits before the decimal point. */
static int expand(ld x, int *point) {
	if (is_neg(x)) x = -x;
	int n = 0;
	int scale = 0;
	ld t = ten();
	/* Bring large values below 2^63 (these divisions round: the digits are those of the
	   rounded quotient, as in a naive printf). */
	while (x >= fromu64(1000000000000000000ULL)) {
		x = x / t;
		scale++;
	}
	u64 ip = trunc64(x);
	x = x - fromu64(ip);
	if (scale) x = 0; /* the scaled value's fraction is below the digits kept */
	char tmp[24];
	int k = 0;
	do {
		tmp[k++] = (char)('0' + ip % 10);
		ip /= 10;
	} while (ip);
	while (k) digits[n++] = tmp[--k];
	for (int i = 0; i < scale; i++) digits[n++] = '0';
	*point = n;
	while (x != 0 && n < (int)sizeof digits) {
		x = x * t; /* exact: the fraction loses one bit below the point each time */
		u64 d = trunc64(x);
		digits[n++] = (char)('0' + d);
		x = x - fromu64(d);
	}
	return n;
}

/* print17 prints the expansion rounded to 17 significant digits (half up on the exact
   digits), in scientific notation. */
static void print17(int n, int point) {
	int first = 0;
	while (first < n && digits[first] == '0') first++;
	if (first == n) {
		out("0.0000000000000000e+00");
		return;
	}
	char d[18];
	int carry = first + 17 < n && digits[first + 17] >= '5';
	for (int i = 16; i >= 0; i--) {
		int v = (first + i < n ? digits[first + i] - '0' : 0) + carry;
		carry = v == 10;
		d[i] = (char)('0' + v % 10);
	}
	int e = point - first - 1 + carry;
	if (carry) {
		for (int i = 16; i > 0; i--) d[i] = d[i - 1];
		d[0] = '1';
	}
	d[17] = 0;
	char s[3] = {d[0], '.', 0};
	out(s);
	out(d + 1);
	out(e < 0 ? "e-" : "e+");
	if (e < 0) e = -e;
	if (e < 10) out("0");
	outdec((u64)e);
}

static const u64 values[] = {
	0x3ff0000000000000ULL, /* 1 */
	0x3fb999999999999aULL, /* 0.1 */
	0x3fd5555555555555ULL, /* 1/3 */
	0x400921fb54442d18ULL, /* pi */
	0x4005bf0a8b145769ULL, /* e */
	0xc0934a4584f4c6e7ULL, /* -1234.5678 */
	0x3e112e0be826d695ULL, /* 1e-9 */
	0x0000000000000001ULL, /* the smallest denormal */
	0x000fffffffffffffULL, /* the largest denormal */
	0x0010000000000000ULL, /* the smallest normal */
	0x7fefffffffffffffULL, /* the largest double */
	0x4341c37937e08000ULL, /* 1e16 */
	0x43e0000000000000ULL, /* 2^63 */
	0x3f50624dd2f1a9fcULL, /* 0.001 */
	0x40fe240ca0000000ULL, /* 123456.7890625 */
	0x8000000000000000ULL, /* -0 */
	0x3ff0000000000001ULL, /* 1 + 2^-52 */
	0x4415af1d78b58c40ULL, /* 1e20 */
	0x3c9cd2b297d889bcULL, /* 1e-16 */
};

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	ld sum = 0, prod = ten();
	for (unsigned i = 0; i < sizeof values / sizeof values[0]; i++) {
		ld x = load64(values[i]);
		int point;
		int n = expand(x, &point);
		outhex(values[i], 16);
		out(is_neg(x) ? " -" : " +");
		for (int k = 0; k < n; k++) {
			if (k == point) out(".");
			char c[2] = {digits[k], 0};
			out(c);
		}
		out(" ~ ");
		print17(n, point);
		out("\n");
		sum = sum + x;
		prod = prod * x;
		if (prod == 0) prod = ten();
		u80 s, p;
		__asm__("fstpt %0" : "=m"(s) : "t"(sum) : "st");
		__asm__("fstpt %0" : "=m"(p) : "t"(prod) : "st");
		out("  sum ");
		out80(&s);
		out(" product ");
		out80(&p);
		out("\n");
		__asm__("fldt %1" : "=t"(sum) : "m"(s));
		__asm__("fldt %1" : "=t"(prod) : "m"(p));
		ncases++;
	}
	return finish();
}
