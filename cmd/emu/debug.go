package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/vmemu/vmemu/debugger"
	"github.com/vmemu/vmemu/internal/safetext"
	"github.com/vmemu/vmemu/minikernel"
)

// emu debug: the flags and the wiring of a debugger session (package debugger) whose
// commands come from the terminal, from standard input or from --script FILE, so a session
// can be replayed and graded.

const debugUsage = `Usage: emu debug [flags] PROG [ARGS...]

Loads PROG as emu run would and stops before its first instruction. Commands are read
from the terminal, from standard input, or from --script FILE (then each command is echoed
after the prompt, so the output reads as a transcript). The guest writes to emu's standard
output and error and reads its standard input from --input FILE (empty by default, since
the debugger reads its commands there).

Example:
  $ emu debug testprogs/bin/bss_sum
  (emu) break fault demand-zero
  (emu) continue
  (emu) walk 0x404000
  (emu) step
  (emu) vmas

Flags:
`

type debugOptions struct {
	machineOptions
	script string
	input  string
	trace  string
	gdb    string
	http   string
}

func debugFlags(out io.Writer) (*flag.FlagSet, *debugOptions) {
	o := &debugOptions{}
	fs := flag.NewFlagSet("debug", flag.ContinueOnError)
	fs.SetOutput(out)
	o.machineOptions.register(fs)
	fs.StringVar(&o.script, "script", "", "read debugger commands from `FILE` instead of standard input")
	fs.StringVar(&o.input, "input", "", "the guest's standard input comes from `FILE` (default: empty)")
	fs.StringVar(&o.gdb, "gdb", "", "let gdb drive the program: wait for it on `ADDR` (HOST:PORT, :PORT, or a\n"+
		"socket path) once the --script commands have run; monitor CMD runs commands")
	fs.StringVar(&o.trace, "trace", "", "start with tracing of these event `KINDS` on (as the trace command)")
	fs.StringVar(&o.http, "http", "", "serve the web view of the machine on `ADDR` (host:port, or a port alone for\n127.0.0.1): the page, the terminal and --script drive one session until quit")
	fs.Usage = func() {
		fmt.Fprint(out, debugUsage)
		fs.PrintDefaults()
	}
	return fs, o
}

func debugCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs, o := debugFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "emu debug: no program given")
		fs.Usage()
		return 2
	}
	cfg, err := o.config()
	if err != nil {
		fmt.Fprintf(stderr, "emu debug: %v\n", err)
		return 2
	}
	for _, n := range o.notes {
		fmt.Fprintf(stderr, "emu debug: --tlb: note: %s\n", n)
	}
	if o.gdb != "" && o.http != "" {
		fmt.Fprintln(stderr, "emu debug: --gdb and --http drive the program each their own way: choose one")
		return 2
	}
	commands := stdin
	if o.script != "" {
		f, err := openInput(o.script)
		if err != nil {
			fmt.Fprintf(stderr, "emu debug: --script: %v\n", err)
			return 2
		}
		defer f.Close()
		commands = f
	}
	cfg.Stdin = strings.NewReader("")
	if o.input != "" {
		f, err := openInput(o.input)
		if err != nil {
			fmt.Fprintf(stderr, "emu debug: --input: %v\n", err)
			return 2
		}
		defer f.Close()
		cfg.Stdin = f
	}
	// SIGQUIT (Ctrl-\\) ends the session with one line, not the Go runtime's goroutine dump.
	quit := make(chan os.Signal, 1)
	signal.Notify(quit, syscall.SIGQUIT)
	defer signal.Stop(quit)
	go func() {
		if _, ok := <-quit; ok {
			fmt.Fprintln(stderr, "emu debug: SIGQUIT: session ended")
			os.Exit(128 + int(syscall.SIGQUIT))
		}
	}()
	cfg.Stdout, cfg.Stderr, cfg.Log = stdout, stderr, stdout
	log := stdout
	var wv *webView
	if o.http != "" {
		wv = newWebView(stdout)
		cfg.Stdout, cfg.Stderr, cfg.Log, log = wv.tee(stdout), wv.tee(stderr), wv.tee(stdout), wv.tee(stdout)
	}
	k, err := minikernel.New(cfg)
	if err != nil {
		if code := machineError(stderr, "emu debug", err); code != 0 {
			return code
		}
		fmt.Fprintf(stderr, "emu: %v\n", err)
		return 1
	}
	defer k.Close()
	if wv != nil {
		wv.attach(k)
	}
	d := debugger.New(k, log, cfg.MaxInsns)
	if o.trace != "" {
		if err := d.SetTrace(o.trace); err != nil {
			fmt.Fprintf(stderr, "emu debug: --trace: %v\n", err)
			return 2
		}
	}
	p, err := k.Spawn(fs.Arg(0), fs.Args(), os.Environ())
	if err != nil {
		fmt.Fprintf(stderr, "emu: %v\n", err)
		return spawnStatus(err)
	}
	d.Follow(p)
	if o.gdb != "" {
		// The script sets the session up (break fault, trace); then gdb drives.
		script := io.Reader(strings.NewReader(""))
		if o.script != "" {
			script = commands
		}
		if code := d.Serve(script, false); code != 0 || !k.Live() {
			return code
		}
		return serveGDB(k, p, d, o.gdb, cfg.MaxInsns, stderr)
	}
	if wv != nil {
		var script io.Reader
		if o.script != "" {
			script = commands
		}
		return wv.serve(d, o.http, script, stdin, stderr)
	}
	return d.Serve(commands, isTerminal(commands))
}

// isTerminal reports whether r is a character device (a person typing).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// openInput opens a file emu reads (a script, the guest's input): a directory or anything
// else that cannot be read as a file is an error now, not an empty input later.
func openInput(name string) (*os.File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || fi.IsDir() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s is a directory", safetext.Escape(name))
		}
		return nil, err
	}
	return f, nil
}
