package mmu_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/ram"
	"github.com/vmemu/vmemu/tlb"

	"github.com/vmemu/vmemu/internal/testcheck"
)

func TestNewValidatesConfig(t *testing.T) {
	r, err := ram.New(testRAMSize)
	require.NoError(t, err)
	defer r.Close()
	bad := tlb.Config{Name: "BAD", Entries: 3, Ways: 2}
	tests := []struct {
		name    string
		edit    func(*mmu.Config)
		wantErr string // "" for success
		maxPhys uint
	}{
		{"the default configuration", func(*mmu.Config) {}, "", 46},
		{"MAXPHYADDR 0 means 46", func(c *mmu.Config) { c.MaxPhysAddr = 0 }, "", 46},
		{"MAXPHYADDR 36 is the smallest", func(c *mmu.Config) { c.MaxPhysAddr = 36 }, "", 36},
		{"MAXPHYADDR 52 is the largest", func(c *mmu.Config) { c.MaxPhysAddr = 52 }, "", 52},
		{"MAXPHYADDR 35 is rejected", func(c *mmu.Config) { c.MaxPhysAddr = 35 }, "outside 36..52", 0},
		{"MAXPHYADDR 53 is rejected", func(c *mmu.Config) { c.MaxPhysAddr = 53 }, "outside 36..52", 0},
		{"a bad DTLB geometry is rejected", func(c *mmu.Config) { c.DTLB = bad }, "tlb BAD", 0},
		{"a bad ITLB geometry is rejected", func(c *mmu.Config) { c.ITLB = bad }, "tlb BAD", 0},
		{"a unified MMU ignores the ITLB geometry", func(c *mmu.Config) { c.ITLB, c.Unified = bad, true }, "", 46},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mmu.DefaultConfig()
			tc.edit(&cfg)
			m, err := mmu.New(r, cfg)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.Nil(t, m)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.maxPhys, m.MaxPhysAddr())
			assert.Same(t, r, m.RAM())
			assert.Zero(t, m.CR0()&mmu.CR0PG, "paging starts off")
		})
	}
	t.Run("RAM larger than MAXPHYADDR can address is rejected", func(t *testing.T) {
		big, err := ram.New(128 << 30) // reserved, not committed
		if err != nil {
			testcheck.Skip(t, "host cannot reserve 128 GiB of address space: %v", err)
		}
		defer big.Close()
		cfg := mmu.DefaultConfig()
		cfg.MaxPhysAddr = 36
		_, err = mmu.New(big, cfg)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "do not fit in 36 physical address bits")
	})
}

func TestControlRegisterLoads(t *testing.T) {
	fresh := func(t *testing.T) *machine { return newMachine(t, mmu.DefaultConfig()) }
	tests := []struct {
		name    string
		machine func(t *testing.T) *machine
		load    func(m *mmu.MMU) error
		wantErr string // "" for success
		check   func(t *testing.T, m *mmu.MMU)
	}{
		{"CR0.PG without CR0.PE is #GP", fresh,
			func(m *mmu.MMU) error { return m.SetCR0(mmu.CR0PG) }, "without CR0.PE", nil},
		{"CR0 bits 63:32 are reserved", fresh,
			func(m *mmu.MMU) error { return m.SetCR0(1<<32 | mmu.CR0PE) }, "reserved bits in CR0", nil},
		{"CR0.PG without CR4.PAE is #GP", fresh, func(m *mmu.MMU) error {
			if err := m.SetEFER(mmu.EFERLME); err != nil {
				return err
			}
			return m.SetCR0(mmu.CR0PE | mmu.CR0PG)
		}, "4-level paging", nil},
		{"CR0.PG without EFER.LME is #GP", fresh, func(m *mmu.MMU) error {
			if err := m.SetCR4(mmu.CR4PAE); err != nil {
				return err
			}
			return m.SetCR0(mmu.CR0PE | mmu.CR0PG)
		}, "4-level paging", nil},
		{"CR0.PG with PAE and LME activates long mode", fresh, func(m *mmu.MMU) error {
			require.NoError(t, m.SetCR4(mmu.CR4PAE))
			if err := m.SetEFER(mmu.EFERLME); err != nil {
				return err
			}
			return m.SetCR0(mmu.CR0PE | mmu.CR0PG)
		}, "", func(t *testing.T, m *mmu.MMU) {
			assert.Equal(t, uint64(mmu.EFERLME|mmu.EFERLMA), m.EFER())
			assert.Equal(t, uint64(mmu.CR0PE|mmu.CR0PG), m.CR0())
		}},
		{"EFER.LMA cannot be written", fresh,
			func(m *mmu.MMU) error { return m.SetEFER(mmu.EFERLMA | mmu.EFERNXE) }, "",
			func(t *testing.T, m *mmu.MMU) { assert.Equal(t, uint64(mmu.EFERNXE), m.EFER()) }},
		{"changing EFER.LME with paging on is #GP", func(t *testing.T) *machine { return boot(t, 0) },
			func(m *mmu.MMU) error { return m.SetEFER(m.EFER() &^ mmu.EFERLME) }, "EFER.LME", nil},
		{"changing EFER.NXE with paging on is allowed", func(t *testing.T) *machine { return boot(t, 0) },
			func(m *mmu.MMU) error { return m.SetEFER(m.EFER() &^ mmu.EFERNXE) }, "",
			func(t *testing.T, m *mmu.MMU) { assert.NotZero(t, m.EFER()&mmu.EFERLMA, "LMA is kept") }},
		{"CR3 bits above MAXPHYADDR are #GP", func(t *testing.T) *machine { return boot(t, 0) },
			func(m *mmu.MMU) error { return m.SetCR3(1 << 46) }, "above MAXPHYADDR", nil},
		{"CR4.PCIDE outside long mode is #GP", fresh,
			func(m *mmu.MMU) error { return m.SetCR4(mmu.CR4PAE | mmu.CR4PCIDE) }, "PCIDE", nil},
		{"CR4.PCIDE with CR3[11:0] not zero is #GP", func(t *testing.T) *machine {
			m := boot(t, 0)
			m.setCR3(m.root() | 0x8)
			return m
		}, func(m *mmu.MMU) error { return m.SetCR4(m.CR4() | mmu.CR4PCIDE) }, "PCIDE", nil},
		{"clearing CR4.PAE in long mode is #GP", func(t *testing.T) *machine { return boot(t, 0) },
			func(m *mmu.MMU) error { return m.SetCR4(m.CR4() &^ mmu.CR4PAE) }, "PAE", nil},
		{"EnableLongMode with CR3 above MAXPHYADDR fails", fresh,
			func(m *mmu.MMU) error { return m.EnableLongMode(1<<50, 0) }, "MAXPHYADDR", nil},
		{"EnableLongMode with PCIDs loads the PCID last", fresh,
			func(m *mmu.MMU) error { return m.EnableLongMode(0x10_0000|0x2a, mmu.CR4PCIDE|mmu.CR4PGE) }, "",
			func(t *testing.T, m *mmu.MMU) {
				assert.Equal(t, uint16(0x2a), m.PCID())
				assert.Equal(t, uint64(0x10_002a), m.CR3())
				assert.Equal(t, uint64(mmu.CR4PAE|mmu.CR4PCIDE|mmu.CR4PGE), m.CR4())
				assert.Equal(t, uint64(mmu.CR0PE|mmu.CR0PG|mmu.CR0WP), m.CR0())
				assert.Equal(t, uint64(mmu.EFERLME|mmu.EFERLMA|mmu.EFERNXE), m.EFER())
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.machine(t)
			err := tc.load(m.mmu)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "#GP")
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			if tc.check != nil {
				tc.check(t, m.mmu)
			}
		})
	}
}

func TestPTEString(t *testing.T) {
	tests := []struct {
		pte  mmu.PTE
		want string
	}{
		{0, "not present"},
		{0x1234_5000, "not present (raw 0x12345000)"},
		{P | W | U | 0x1234_5000, "P RW US frame=0x12345"},
		{P | W | U | mmu.PTEPWT | mmu.PTEPCD | A | D | PS | G | XD, "P RW US PWT PCD A D PS G NX frame=0x0"},
		{P | mmu.PTE(0).WithSoft(5) | 0xf_ffff_ffff_f000, "P soft=5 frame=0xffffffffff"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) { assert.Equal(t, tc.want, tc.pte.String()) })
	}
}

func TestPTEFields(t *testing.T) {
	e := P | W | XD | 0x7_6543_2000 | 6<<mmu.PTESoftShift
	assert.Equal(t, uint64(0x7_6543_2000), e.Addr(), "bits 51:12")
	assert.Equal(t, uint64(0x76543_2), e.Frame())
	assert.Equal(t, uint8(6), e.Soft())
	f := e.WithSoft(0xf9) // only the low three bits are kept
	assert.Equal(t, uint8(1), f.Soft())
	assert.Equal(t, e&^mmu.PTESoftMask, f&^mmu.PTESoftMask, "no other bit changes")
	assert.Equal(t, uint64(0), (1<<52 | mmu.PTE(0xfff)).Addr(), "bits 63:52 and 11:0 are not address")
}

func TestErrorCodeAndFaultStrings(t *testing.T) {
	codes := []struct {
		code uint32
		want string
	}{
		{0, "- - - - -"},
		{eP, "P - - - -"},
		{eP | eW | eU, "P W U - -"},
		{eP | eRSVD, "P - - RSVD -"},
		{eU | eI, "- - U - I"},
		{eP | eW | eU | eRSVD | eI, "P W U RSVD I"},
	}
	for _, tc := range codes {
		t.Run(tc.want, func(t *testing.T) { assert.Equal(t, tc.want, mmu.DecodeErrorCode(tc.code)) })
	}

	accesses := []struct {
		acc  mmu.Access
		want string
	}{
		{mmu.Read, "supervisor read"},
		{mmu.Write, "supervisor write"},
		{mmu.Fetch, "supervisor fetch"},
		{mmu.Read | mmu.AC, "supervisor read"},
		{mmu.User, "user read"},
		{mmu.User | mmu.Write, "user write"},
		{mmu.User | mmu.Fetch, "user fetch"},
	}
	for _, tc := range accesses {
		t.Run(tc.want, func(t *testing.T) { assert.Equal(t, tc.want, tc.acc.String()) })
	}

	// An access's bits sit where the error code reports them.
	assert.Equal(t, eW, uint32(mmu.Write))
	assert.Equal(t, eU, uint32(mmu.User))
	assert.Equal(t, eI, uint32(mmu.Fetch))

	pf := &mmu.Fault{Vector: mmu.VectorPF, Code: eP | eW | eU, Addr: 0x4000, Access: mmu.User | mmu.Write}
	assert.Equal(t, "#PF at 0x4000: user write, error code 0x7 [P W U - -]", pf.Error())
	gp := &mmu.Fault{Vector: mmu.VectorGP, Addr: 0x8000_0000_0000_0000}
	assert.Equal(t, "#GP(0): non-canonical address 0x8000000000000000", gp.Error())
}
