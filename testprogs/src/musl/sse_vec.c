/* sse_vec: loops that gcc -O3 auto-vectorizes with SSE2 (packed float, double, int, byte
   and short arithmetic, compares, min/max, reductions), printed with %a so every bit shows. */
#include <stdio.h>
#define N 1000
static float fa[N], fb[N], fc[N];
static double da[N], db[N];
static int ia[N], ib[N];
static unsigned char ua[N], ub[N];
static short sa[N];
int main(void) {
	for (int i = 0; i < N; i++) {
		fa[i] = (float)i * 0.37f - 50.0f; fb[i] = 1.0f / (float)(i + 1);
		da[i] = (double)i * 1.0000001 - 333.3; ia[i] = i * 2654435761u; ua[i] = (unsigned char)(i * 31);
		sa[i] = (short)(i * 977);
	}
	for (int r = 0; r < 10; r++) {
		for (int i = 0; i < N; i++) fc[i] = fa[i] * fb[i] + fc[i] * 0.5f;
		for (int i = 0; i < N; i++) db[i] = da[i] * da[i] - db[i] / 3.0;
		for (int i = 0; i < N; i++) ib[i] = (ia[i] >> 3) + ib[i] * 7 - (ia[i] & 0xff);
		for (int i = 0; i < N; i++) ub[i] = ua[i] > ub[i] ? ua[i] - ub[i] : ub[i] + 1;
		for (int i = 0; i < N; i++) fa[i] = fa[i] < 0 ? -fa[i] : fa[i] * 0.999f;
	}
	float fs = 0; double ds = 0; long is = 0; unsigned us = 0; int mn = 1 << 30, mx = -mn; long ss = 0;
	for (int i = 0; i < N; i++) {
		fs += fc[i]; ds += db[i]; is += ib[i]; us += ub[i];
		if (ib[i] < mn) mn = ib[i];
		if (ib[i] > mx) mx = ib[i];
		ss += sa[i] * sa[i];
	}
	printf("%a %a %ld %u %d %d %ld\n", fs, ds, is, us, mn, mx, ss);
	printf("%.17g %.9g %d %ld\n", ds / 7.0, fs * 3.0f, (int)(ds / 1e6), (long)fs);
	return 0;
}
