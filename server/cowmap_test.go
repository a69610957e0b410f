package server

import (
	"sync"
	"testing"
)

func TestCowMap(t *testing.T) {
	var c cowMap[string, int]
	if _, ok := c.load("a"); ok || c.len() != 0 {
		t.Fatal("the zero value is not empty")
	}
	c.store("a", 1, 2)
	c.store("a", 2, 2) // present: kept
	c.store("b", 3, 2)
	c.store("c", 4, 2) // full
	for k, want := range map[string]int{"a": 1, "b": 3} {
		if v, ok := c.load(k); !ok || v != want {
			t.Errorf("load(%q) = %d, %v; want %d", k, v, ok, want)
		}
	}
	if _, ok := c.load("c"); ok || c.len() != 2 {
		t.Errorf("stored past the limit: len %d", c.len())
	}
	c.store("c", 4, 0) // no limit
	if v, _ := c.load("c"); v != 4 {
		t.Error("store without a limit failed")
	}
}

// TestCowMapConcurrent is for the race detector.
func TestCowMapConcurrent(t *testing.T) {
	var c cowMap[int, int]
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				if v, ok := c.load(i); ok && v != i*10 {
					t.Errorf("load(%d) = %d", i, v)
				}
				c.store((i+g)%100, (i+g)%100*10, 0)
			}
		})
	}
	wg.Wait()
	if c.len() != 100 {
		t.Errorf("len %d, want 100", c.len())
	}
}
