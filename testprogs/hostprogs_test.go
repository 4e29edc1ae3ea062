package testprogs

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/internal/testcheck"
	"github.com/vmemu/vmemu/minikernel"
)

// The host's own programs, dynamically linked against its libraries, run under the emulator
// in the default UTF-8 locale and compared with native runs: the same output, exit status and
// files left behind. Each case is a bash script run in a fresh directory; a case whose
// programs the host lacks is not checked, and says so (a failure under CI=true: .ci/run
// installs them).

// hostCase is one script and the programs it needs.
type hostCase struct {
	name   string
	needs  []string
	script string
}

var hostCases = []hostCase{
	{"coreutils", []string{"ls", "sort", "wc", "md5sum", "cp", "date", "seq", "tr"}, `
		printf 'b\na\nc\nü\n' | sort | md5sum
		seq 1 1000 | wc -l
		mkdir a && echo x > a/f && ln -s f a/l && chmod 640 a/f && cp -a a b && ls -l b | cut -c1-10,30- | sort
		ls -la . | wc -l
		date -u -d @1700000000 '+%Y-%m-%d %H:%M:%S %A'
		date '+%Y' | grep -c '^20'
		echo héllo wörld | tr a-z A-Z`},
	{"text tools", []string{"find", "grep", "sed", "awk", "stat", "sort"}, `
		printf 'b\na\nc\nü\nÄ\n' > words; mkdir -p d/sub; echo one > d/1; echo two > d/sub/2
		touch -d @1600000000 d/1 d/sub/2; chmod 640 d/1
		find d -type f | sort; find d -mtime +1000 -name '[0-9]' | sort
		grep -rn o d | sort; grep -c . words; grep -P '\p{Lu}' words; echo héllo | grep -o é
		sed -E 's/(.)(.*)/\2\1/' words; sed -i s/one/ONE/ d/1 && cat d/1
		awk '{n += length($0)} END {printf "%d %.2f\n", n, n / NR}' words
		stat -c '%n %s %a %F' d/1 d/sub/2 d/sub; stat -c %Y d/sub/2`},
	{"tar", []string{"tar", "gzip"}, `
		mkdir d && echo one > d/1 && echo two > d/2 && touch -d @1600000000 d/1 d/2 d
		tar cf t.tar d && tar tvf t.tar | awk '{print $1, $3, $6}'
		mkdir x && tar xf t.tar -C x && cat x/d/1 x/d/2
		tar czf t.tgz d && tar tzf t.tgz | sort`},
	{"bash", []string{"bash", "seq", "paste", "diff"}, `
		seq 1 10 | paste -sd+ | bc 2>/dev/null || echo no bc
		cat <(echo process substitution) | tr a-z A-Z
		diff <(seq 3) <(seq 4); echo "diff: $?"
		for i in 1 2 3; do echo $((i * i)); done | sort -rn | head -2
		x=$(echo inner | sed s/inner/outer/); echo $x
		{ echo to stderr >&2; } 2>&1 | cat`},
	{"python3", []string{"python3"}, `
		python3 -c '
import hashlib, threading
out = []
lock = threading.Lock()
def work(i):
    h = hashlib.sha256(str(i).encode()).hexdigest()[:12]
    with lock:
        out.append(h)
ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
print(sorted(out))
print(hashlib.md5(b"vmemu").hexdigest(), "ünïcödé".upper())
'`},
	{"perl", []string{"perl"}, `perl -e 'my %h = map { $_ => $_ * $_ } 1..5; print join(",", map {"$_=$h{$_}"} sort keys %h), "\n"; printf "%.3f\n", atan2(1,1)*4'`},
	{"openssl", []string{"openssl"}, `printf 'data to hash' | openssl dgst -sha256; printf 'abc' | openssl dgst -md5`},
	{"xz", []string{"xz", "seq"}, `seq 20000 > s && xz -T2 -1 -k s && xz -dc s.xz | tail -1 && xz -l s.xz | tail -1 | awk '{print $1, $2}'`},
	{"zstd", []string{"zstd", "seq"}, `seq 20000 | zstd -q -o s.zst && zstd -dqc s.zst | md5sum`},
	{"make", []string{"make"}, `
		printf 'all: out\n\nout: in mid\n\tcat in mid > out\n\techo built out\n\nmid: in\n\ttr a-z A-Z < in > mid\n\nclean:\n\trm -f out mid\n' > Makefile
		echo data > in
		make && cat out && make && touch in && make && make clean && ls`},
	{"sqlite3", []string{"sqlite3"}, `
		sqlite3 db 'create table t(x, y); insert into t values(1, "a"), (2, "b"), (3, "ü");'
		sqlite3 db 'select count(*), sum(x) from t; select y from t order by x desc limit 1;'
		sqlite3 db 'begin; update t set x = x * 10; commit; select sum(x) from t;'`},
	{"git", []string{"git"}, `
		git init -q r && cd r && echo hello > f && git add f && git commit -q -m first
		echo more >> f && git commit -qam second
		git log --format=%s && git status --short && git diff HEAD~1 --stat | tail -1
		git rev-parse HEAD`},
	{"gcc", []string{"gcc"}, `
		printf '#include <stdio.h>\n#include <math.h>\nint main(void){printf("%%.4f\\n", sqrt(2.0));return 3;}\n' > m.c
		gcc -O1 -o m m.c -lm && ./m; echo "exit $?"`},
}

// hostEnv is the environment of both runs.
func hostEnv(dir string) []string {
	return []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir, "LANG=C.UTF-8", "TZ=UTC",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@b",
		"GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@b",
		"GIT_AUTHOR_DATE=1700000000 +0000", "GIT_COMMITTER_DATE=1700000000 +0000"}
}

// lookHost finds a program in hostEnv's PATH (not the test's, which may hold wrappers).
func lookHost(name string) (string, bool) {
	for _, d := range []string{"/usr/local/bin", "/usr/bin", "/bin"} {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

func TestHostProgramsMatchNative(t *testing.T) {
	bash, ok := lookHost("bash")
	if !ok {
		testcheck.Skip(t, "the host has no bash")
	}
	for _, c := range hostCases {
		t.Run(c.name, func(t *testing.T) {
			var missing []string
			for _, n := range c.needs {
				if _, ok := lookHost(n); !ok {
					missing = append(missing, n)
				}
			}
			if len(missing) > 0 {
				testcheck.Skip(t, "host programs %s: not installed", strings.Join(missing, ", "))
			}
			script := "set -e; cd \"$1\"\n" + c.script
			nd, ed := t.TempDir(), t.TempDir()

			cmd := exec.Command(bash, "-c", script, "bash", nd)
			cmd.Env = hostEnv(nd)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.Sys().(syscall.WaitStatus).ExitStatus()
			} else {
				require.NoError(t, err)
			}

			var eout, eerr, log bytes.Buffer
			cfg := minikernel.Config{RAM: 1 << 30, Stdout: &eout, Stderr: &eerr, Log: &log,
				MaxInsns: 20_000_000_000, CPUs: 2}
			k, err := minikernel.New(cfg)
			require.NoError(t, err)
			t.Cleanup(func() { k.Close() })
			_, err = k.Spawn(bash, []string{"bash", "-c", script, "bash", ed}, hostEnv(ed))
			require.NoError(t, err)
			start := time.Now()
			ecode, err := k.Run()
			require.NoError(t, err, "kernel log: %s", log.String())
			t.Logf("%s: %s under the emulator", c.name, time.Since(start).Round(time.Millisecond))

			norm := func(s string) string { return strings.ReplaceAll(s, ed, "DIR") }
			assert.Equal(t, strings.ReplaceAll(out.String(), nd, "DIR"), norm(eout.String()), "standard output")
			assert.Equal(t, strings.ReplaceAll(errb.String(), nd, "DIR"), norm(eerr.String()), "standard error")
			assert.Equal(t, code, ecode, "exit status; kernel log: %s", log.String())
			assert.Equal(t, hostTree(t, nd), hostTree(t, ed), "files left")
		})
	}
}

// hostTree describes the files under dir as tree does, leaving out what legitimately
// differs between two runs of the same script: git's index and object files (they record
// inode numbers and times) and build products (compilers may embed paths).
func hostTree(t *testing.T, dir string) string {
	var lines []string
	for _, l := range strings.Split(tree(t, dir), "\n") {
		switch {
		case strings.Contains(l, ".git/"), strings.HasPrefix(l, "r/.git"):
			continue
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}
