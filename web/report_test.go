package web

import "testing"

func TestNiceMaxAndComma(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{{0, 1}, {1, 1}, {3, 5}, {258, 500}, {1000, 1000}, {1001, 2000}} {
		if got := niceMax(tc.in); got != tc.want {
			t.Errorf("niceMax(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   uint64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1816883, "1,816,883"}} {
		if got := comma(tc.in); got != tc.want {
			t.Errorf("comma(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
