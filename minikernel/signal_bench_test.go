package minikernel

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkSignalRoundTrip measures one signal sent to oneself and handled: kill(2), the
// frame built on the stack (with the FXSAVE image), the handler (a RET), rt_sigreturn
// restoring everything; seven guest instructions per round trip. Report: ns per signal and
// allocations per signal (none in steady state).
func BenchmarkSignalRoundTrip(b *testing.B) {
	code := []byte{
		0xb8, 39, 0, 0, 0, 0x0f, 0x05, // mov eax, getpid; syscall
		0x89, 0xc7, // mov edi, eax
		0xbe, SIGUSR1, 0, 0, 0, // loop: mov esi, SIGUSR1
		0xb8, 62, 0, 0, 0, 0x0f, 0x05, // mov eax, kill; syscall
		0xeb, 0xf0, // jmp loop
	}
	handler := []byte{0xc3}                           // ret (to the restorer)
	restorer := []byte{0xb8, 15, 0, 0, 0, 0x0f, 0x05} // mov eax, rt_sigreturn; syscall
	k, err := New(Config{RAM: 64 << 20})
	require.NoError(b, err)
	defer k.Close()
	p, err := k.Spawn(progs+"hello", []string{"hello"}, nil)
	require.NoError(b, err)
	a := [6]uint64{0, 4096, uint64(ProtRead | ProtWrite | ProtExec), mapPrivate | mapAnonymous, ^uint64(0), 0}
	page := uint64(sysMmap(k, p, &a))
	k.copyOut(p, page, code)
	k.copyOut(p, page+0x40, handler)
	k.copyOut(p, page+0x50, restorer)
	p.sig.act[SIGUSR1] = sigAction{handler: page + 0x40, flags: saRestorer, restorer: page + 0x50}
	k.cpu.SetRIP(page)
	for k.cpu.Instructions() < 1000 { // warm up: code decoded, stack pages mapped
		require.NoError(b, k.Step(1000))
	}
	start := k.cpu.Instructions()
	b.ReportAllocs()
	b.ResetTimer()
	for k.cpu.Instructions()-start < 7*uint64(b.N) {
		if err := k.Step(7*uint64(b.N) - (k.cpu.Instructions() - start)); err != nil {
			b.Fatal(err)
		}
	}
}
