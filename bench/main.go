// Command bench measures the product's speed and memory on this machine and
// writes one table of figures. Each area registers its benchmarks from a
// file of its own here (register in an init function); main runs them in
// name order, or only those named with -only.
//
//	go run ./bench                      every benchmark, on SQLite
//	go run ./bench -db postgres         the same on PostgreSQL
//	go run ./bench -only tokens,sfu     some of them
//	go run ./bench -quick               smaller sizes, to check they still run
//
// Figures are measured, never asserted: nothing here fails because a
// number is high. Where the same work has a physical limit, such as a raw
// SQL statement deleting the same rows, a benchmark reports that too and the
// table shows the ratio between the two.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Env is what a benchmark gets: the engine to run on, where to put its
// files, the size switch and the place to report figures.
type Env struct {
	// Engine is "sqlite" or "postgres".
	Engine string
	// PostgresURL is the server's address when Engine is "postgres"; a
	// benchmark makes a database of its own there (see openDB).
	PostgresURL string
	// Dir is a scratch folder removed after the benchmark.
	Dir string
	// Quick asks for small sizes, so that a test can prove the benchmark
	// still runs; figures from a quick run mean little.
	Quick bool
	// Log receives progress lines (stderr).
	Log io.Writer

	rows []Row
	name string
}

// Row is one figure of the table.
type Row struct {
	Bench  string
	Metric string
	Value  float64
	Unit   string
	// Baseline is the same work done by its physical limit, such as raw SQL;
	// zero when there is none.
	Baseline float64
	Note     string
}

// Report adds a figure.
func (e *Env) Report(metric string, value float64, unit string) {
	e.rows = append(e.rows, Row{Bench: e.name, Metric: metric, Value: value, Unit: unit})
}

// ReportVs adds a figure next to its baseline; note names the baseline, such
// as "raw DELETE".
func (e *Env) ReportVs(metric string, value, baseline float64, unit, note string) {
	e.rows = append(e.rows, Row{Bench: e.name, Metric: metric, Value: value, Unit: unit, Baseline: baseline, Note: note})
}

// Logf writes a progress line.
func (e *Env) Logf(format string, args ...any) {
	fmt.Fprintf(e.Log, "[%s] %s\n", e.name, fmt.Sprintf(format, args...))
}

// Bench is one registered benchmark.
type Bench struct {
	Name string
	// About is one line for the table's header.
	About string
	Run   func(ctx context.Context, e *Env) error
}

var registry []Bench

func register(b Bench) { registry = append(registry, b) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engine := fs.String("db", "sqlite", "database engine: sqlite or postgres")
	pgURL := fs.String("postgres-url", envOr("SESSIONS_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL server for -db postgres")
	only := fs.String("only", "", "comma-separated benchmark names to run (default: all)")
	quick := fs.Bool("quick", false, "small sizes, to check the benchmarks run")
	out := fs.String("out", "", "also write the table to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *engine != "sqlite" && *engine != "postgres" {
		return fmt.Errorf("-db must be sqlite or postgres, not %q", *engine)
	}
	var chosen []Bench
	want := map[string]bool{}
	for n := range strings.SplitSeq(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	slices.SortFunc(registry, func(a, b Bench) int { return strings.Compare(a.Name, b.Name) })
	found := map[string]bool{}
	for _, b := range registry {
		if len(want) == 0 || want[b.Name] {
			chosen = append(chosen, b)
			found[b.Name] = true
		}
	}
	for n := range want {
		if !found[n] {
			return fmt.Errorf("no benchmark named %q", n)
		}
	}
	var rows []Row
	var about []string
	for _, b := range chosen {
		dir, err := os.MkdirTemp("", "sessions-bench-")
		if err != nil {
			return err
		}
		e := &Env{Engine: *engine, PostgresURL: *pgURL, Dir: dir, Quick: *quick, Log: stderr, name: b.Name}
		resetPeakRSS()
		start := time.Now()
		e.Logf("running")
		err = b.Run(ctx, e)
		os.RemoveAll(dir)
		if err != nil {
			return fmt.Errorf("%s: %w", b.Name, err)
		}
		e.Logf("done in %s", time.Since(start).Round(time.Millisecond))
		if peak := peakRSS(); peak > 0 {
			e.Report("peak memory (process RSS)", float64(peak)/(1<<20), "MiB")
		}
		rows = append(rows, e.rows...)
		about = append(about, fmt.Sprintf("- **%s**: %s", b.Name, b.About))
	}
	table := formatTable(*engine, *quick, about, rows)
	fmt.Fprint(stdout, table)
	if *out != "" {
		return os.WriteFile(*out, []byte(table), 0o644)
	}
	return nil
}

func formatTable(engine string, quick bool, about []string, rows []Row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks (%s, %s)\n\n", engine, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	if quick {
		b.WriteString("Quick run: small sizes, figures are not meaningful.\n\n")
	}
	b.WriteString(strings.Join(about, "\n"))
	b.WriteString("\n\n| benchmark | metric | value | unit | baseline | ratio | baseline is |\n|---|---|---:|---|---:|---:|---|\n")
	for _, r := range rows {
		base, ratio := "", ""
		if r.Baseline > 0 {
			base = formatFloat(r.Baseline)
			ratio = fmt.Sprintf("%.2f×", r.Value/r.Baseline)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.Bench, r.Metric, formatFloat(r.Value), r.Unit, base, ratio, r.Note)
	}
	return b.String()
}

func formatFloat(f float64) string {
	switch {
	case f >= 100:
		return fmt.Sprintf("%.0f", f)
	case f >= 1:
		return fmt.Sprintf("%.2f", f)
	default:
		return fmt.Sprintf("%.4f", f)
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
