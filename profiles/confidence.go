package profiles

import (
	"fmt"
	"math"
)

// Withheld is a syscall a profile does not allow although the program
// can reach it, with its tier and why it stays out.
type Withheld struct {
	Name   string `json:"name"`
	Tier   string `json:"tier"`
	Reason string `json:"reason"`
}

// Confidence says how much the recordings behind a profile cover. Each
// recording is a sample of the program's behaviour; a syscall seen in
// only one of them is a rare one, and rare ones seen predict rare ones
// not yet seen (Good–Turing).
type Confidence struct {
	// Runs is the number of recordings (n).
	Runs int `json:"runs"`
	// Observed is the number of syscalls some run made.
	Observed int `json:"observed"`
	// SingleRun is how many of them exactly one run made (Q1).
	SingleRun int `json:"single_run"`
	// Unseen estimates the chance that a new run needs a syscall no
	// recorded run made: Q1/n, the incidence form of Good–Turing's
	// missing mass (the expected number of syscalls new to the next
	// run), capped at 1. One run always gives 1: it says nothing yet.
	Unseen float64 `json:"unseen_estimate"`
}

// EntryRuns is in how many runs s was seen: Runs, or 1 for an entry of
// a single-run profile that predates the field (it has a count).
func EntryRuns(s Syscall) int {
	if s.Runs == 0 && s.Count > 0 {
		return 1
	}
	return s.Runs
}

// ComputeConfidence derives the Good–Turing estimate from p's entries
// and its number of recordings. It returns nil for a profile no
// recording is behind.
func ComputeConfidence(p *Profile) *Confidence {
	if p.Recorded == nil {
		return nil
	}
	c := &Confidence{Runs: max(p.Recorded.Recordings, 1)}
	runs := map[string]int{}
	for _, s := range p.Syscalls {
		runs[s.Name] = max(runs[s.Name], EntryRuns(s))
	}
	for _, k := range runs {
		if k == 0 {
			continue
		}
		c.Observed++
		if k == 1 {
			c.SingleRun++
		}
	}
	c.Unseen = math.Round(min(1, float64(c.SingleRun)/float64(c.Runs))*1000) / 1000
	return c
}

// Text prints c for show.
func (c *Confidence) Text() string {
	share := 0.0
	if c.Observed > 0 {
		share = float64(c.SingleRun) / float64(c.Observed)
	}
	return fmt.Sprintf("%d of %d syscalls seen in exactly one of %d run(s) (%.0f%%); Good–Turing: a new run needs one no run made with probability ≈ %.2f",
		c.SingleRun, c.Observed, c.Runs, 100*share, c.Unseen)
}

// usesGeneralisation reports whether p has a field version 1 cannot say.
func (p *Profile) usesGeneralisation() bool {
	if len(p.NotAllowed) > 0 || p.Confidence != nil {
		return true
	}
	for _, s := range p.Syscalls {
		if s.Runs != 0 {
			return true
		}
	}
	return false
}

// schemaVersion is the version p is written as: the oldest that can say
// everything in it.
func (p *Profile) schemaVersion() int {
	if p.usesGeneralisation() {
		return max(2, p.minVersion())
	}
	return p.minVersion()
}
