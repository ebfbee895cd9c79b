package web_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// maxPageHTML is the most HTML one page of the record may weigh.
const maxPageHTML = 150 << 10

var inventoryTable = regexp.MustCompile(`<article class="section" id="table-([a-z0-9_]+)"`)

// TestRecordPagesStayLight: the record of processing and every page of
// its data inventory are each under 150 KB of HTML, the inventory's
// pages together describe every table of the data map, each table once,
// and the record links each table to the page that holds it.
func TestRecordPagesStayLight(t *testing.T) {
	h := newHarness(t)
	c := h.anon()
	main := c.get(t, "/privacy/record")
	if main.StatusCode != http.StatusOK {
		t.Fatalf("/privacy/record: %d", main.StatusCode)
	}
	if len(main.Body) > maxPageHTML {
		t.Errorf("/privacy/record is %d bytes of HTML, over %d", len(main.Body), maxPageHTML)
	}
	var dm struct {
		Inventory []struct {
			Name string `json:"name"`
		} `json:"inventory"`
	}
	c.get(t, "/api/datamap").decode(t, &dm)
	if len(dm.Inventory) == 0 {
		t.Fatal("the data map lists no table")
	}

	seen := map[string]int{}
	for n := 1; ; n++ {
		path := fmt.Sprintf("/privacy/record/inventory?page=%d", n)
		res := c.get(t, path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		if len(res.Body) > maxPageHTML {
			t.Errorf("%s is %d bytes of HTML, over %d", path, len(res.Body), maxPageHTML)
		}
		for _, m := range inventoryTable.FindAllStringSubmatch(res.text(), -1) {
			if prev, dup := seen[m[1]]; dup {
				t.Errorf("table %s is on page %d and page %d", m[1], prev, n)
			}
			seen[m[1]] = n
		}
		if !strings.Contains(res.text(), `rel="next"`) {
			if n < 2 {
				t.Errorf("the inventory has a single page")
			}
			if after := c.get(t, fmt.Sprintf("/privacy/record/inventory?page=%d", n+1)); after.StatusCode != http.StatusNotFound {
				t.Errorf("page %d after the last: %d, want 404", n+1, after.StatusCode)
			}
			break
		}
		if n > 50 {
			t.Fatal("the inventory never ends")
		}
	}
	for _, tab := range dm.Inventory {
		page, ok := seen[tab.Name]
		if !ok {
			t.Errorf("table %s is on no page of the inventory", tab.Name)
			continue
		}
		link := fmt.Sprintf(`href="/privacy/record/inventory?page=%d#table-%s"`, page, tab.Name)
		if !strings.Contains(main.text(), link) {
			t.Errorf("the record does not link %s to page %d (%s)", tab.Name, page, link)
		}
	}

	bad := c.get(t, "/privacy/record/inventory?page=two")
	if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(bad.text(), "page") {
		t.Errorf("page=two: %d, want 422 naming the page", bad.StatusCode)
	}
}
