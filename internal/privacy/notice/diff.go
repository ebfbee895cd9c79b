package notice

import "strings"

// Change says how a section differs between two versions.
type Change string

const (
	Unchanged Change = "unchanged"
	Changed   Change = "changed"
	Added     Change = "added"
	Removed   Change = "removed"
)

// SectionDiff is one section of a comparison, in the order of the newer
// text with removed sections where they stood in the older one.
type SectionDiff struct {
	ID     string
	Title  string
	Change Change
	// Lines is the line diff of the section's Markdown, for changed
	// sections only.
	Lines []DiffLine
}

// DiffLine is one line of a line diff: Op is ' ' for a line both texts
// have, '-' for one only the older has and '+' for one only the newer has.
type DiffLine struct {
	Op   byte
	Text string
}

// Compare lists how each section of newer differs from older. A nil older
// (nothing published yet) shows every section as added.
func Compare(older, newer []Section) []SectionDiff {
	old := map[string]Section{}
	for _, s := range older {
		old[s.ID] = s
	}
	inNewer := map[string]bool{}
	for _, s := range newer {
		inNewer[s.ID] = true
	}
	var out []SectionDiff
	oi := 0
	// flushRemoved emits older sections missing from newer that come
	// before the next section both have, keeping the older order.
	flushRemoved := func(until string) {
		for oi < len(older) && older[oi].ID != until {
			if !inNewer[older[oi].ID] {
				out = append(out, SectionDiff{ID: older[oi].ID, Title: older[oi].Title, Change: Removed})
			}
			oi++
		}
		if oi < len(older) {
			oi++
		}
	}
	for _, s := range newer {
		o, ok := old[s.ID]
		if !ok {
			out = append(out, SectionDiff{ID: s.ID, Title: s.Title, Change: Added})
			continue
		}
		flushRemoved(s.ID)
		a, b := SectionMarkdown(o), SectionMarkdown(s)
		if a == b {
			out = append(out, SectionDiff{ID: s.ID, Title: s.Title, Change: Unchanged})
			continue
		}
		out = append(out, SectionDiff{ID: s.ID, Title: s.Title, Change: Changed, Lines: LineDiff(a, b)})
	}
	flushRemoved("")
	return out
}

// AnyChange reports whether any section differs.
func AnyChange(d []SectionDiff) bool {
	for _, s := range d {
		if s.Change != Unchanged {
			return true
		}
	}
	return false
}

// LineDiff is a longest-common-subsequence diff of two texts by line.
// Sections are a few dozen lines long, so the quadratic table is small.
func LineDiff(a, b string) []DiffLine {
	x := strings.Split(strings.TrimSuffix(a, "\n"), "\n")
	y := strings.Split(strings.TrimSuffix(b, "\n"), "\n")
	n, m := len(x), len(y)
	// lcs[i][j] is the length of the LCS of x[i:] and y[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []DiffLine
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case x[i] == y[j]:
			out = append(out, DiffLine{' ', x[i]})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, DiffLine{'-', x[i]})
			i++
		default:
			out = append(out, DiffLine{'+', y[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, DiffLine{'-', x[i]})
	}
	for ; j < m; j++ {
		out = append(out, DiffLine{'+', y[j]})
	}
	return out
}
