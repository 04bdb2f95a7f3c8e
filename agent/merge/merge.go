package merge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"

	"github.com/sysrec/sysrec/agent/spo"
	"github.com/sysrec/sysrec/profiles"
)

// Result says what one Merge did.
type Result struct {
	Name    string // the merged profile
	Added   int    // partials merged in by this call
	Total   int    // partials in the merged profile
	Version int    // the merged profile's version after the call
	Diff    *profiles.Delta
}

// ErrNarrower is returned when a merge would allow less than the
// published profile: never written.
var ErrNarrower = errors.New("the merge would narrow the published profile")

// conflictBackoff spaces the retries of mergers that lost a race: every
// agent may merge the same workload at once.
var conflictBackoff = wait.Backoff{Steps: 20, Duration: 10 * time.Millisecond, Factor: 1.5, Jitter: 1, Cap: 2 * time.Second}

// Merge merges w's complete partials that its merged profile does not
// hold yet into it, creating it if need be, and retries on conflicts
// with other mergers.
func Merge(ctx context.Context, client dynamic.Interface, w spo.Workload) (Result, error) {
	if err := w.Validate(); err != nil {
		return Result{}, err
	}
	var res Result
	err := retry.OnError(conflictBackoff, func(err error) bool {
		return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
	}, func() error {
		var err error
		res, err = mergeOnce(ctx, client.Resource(spo.Resource), w)
		return err
	})
	if err != nil {
		return Result{}, fmt.Errorf("merge %s: %w", w, err)
	}
	return res, nil
}

func mergeOnce(ctx context.Context, res dynamic.NamespaceableResourceInterface, w spo.Workload) (Result, error) {
	name := w.MergedName()
	list, err := res.List(ctx, metav1.ListOptions{LabelSelector: w.Selector()})
	if err != nil {
		return Result{}, fmt.Errorf("list partials: %w", err)
	}
	cur, err := res.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		cur, err = nil, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("get %s: %w", name, err)
	}
	var (
		old      *profiles.Profile
		included []string
		version  int
	)
	if cur != nil {
		if got, err := spo.WorkloadOf(cur); err != nil || got != w || cur.GetLabels()[spo.LabelMerged] != "true" {
			return Result{}, fmt.Errorf("%s exists and is not the merged profile of %s (labels %v)", name, w, cur.GetLabels())
		}
		if old, err = spo.ProfileOf(cur); err != nil {
			return Result{}, err
		}
		if err := json.Unmarshal([]byte(cur.GetAnnotations()[spo.AnnotationPartials]), &included); err != nil {
			return Result{}, fmt.Errorf("read %s of %s: %w", spo.AnnotationPartials, name, err)
		}
		version, _ = strconv.Atoi(cur.GetAnnotations()[spo.AnnotationVersion])
	}
	inputs := []*profiles.Profile{}
	if old != nil {
		inputs = append(inputs, old)
	}
	items := list.Items
	slices.SortFunc(items, func(a, b unstructured.Unstructured) int { return strings.Compare(a.GetName(), b.GetName()) })
	added := 0
	for i := range items {
		p := &items[i]
		if slices.Contains(included, p.GetName()) {
			continue
		}
		prof, err := spo.ProfileOf(p)
		if err != nil {
			return Result{}, err
		}
		if prof == nil {
			return Result{}, fmt.Errorf("partial %s carries no profile", p.GetName())
		}
		inputs = append(inputs, prof)
		included = append(included, p.GetName())
		added++
	}
	if added == 0 {
		return Result{Name: name, Total: len(included), Version: version}, nil
	}
	merged, err := profiles.Merge(inputs...)
	if err != nil {
		return Result{}, err
	}
	merged.Name = name
	diffText := fmt.Sprintf("first version, from %d partial(s)\n", added)
	var delta *profiles.Delta
	if old != nil {
		if profiles.Diff(merged, old).Widens {
			return Result{}, fmt.Errorf("%w %s", ErrNarrower, name)
		}
		delta = profiles.Diff(old, merged)
		diffText = fmt.Sprintf("version %d → %d, %d partial(s) added:\n%s", version, version+1, added, delta.Text())
	}
	slices.Sort(included)
	partialsJSON, err := json.Marshal(included)
	if err != nil {
		return Result{}, err
	}
	annotations := map[string]string{
		spo.AnnotationPartials: string(partialsJSON),
		spo.AnnotationDiff:     diffText,
		spo.AnnotationVersion:  strconv.Itoa(version + 1),
	}
	if err := annotateConfidence(annotations, merged); err != nil {
		return Result{}, err
	}
	labels := w.Labels()
	labels[spo.LabelMerged] = "true"
	obj, err := spo.Object(name, labels, annotations, merged)
	if err != nil {
		return Result{}, err
	}
	if cur == nil {
		_, err = res.Create(ctx, obj, metav1.CreateOptions{})
	} else {
		obj.SetResourceVersion(cur.GetResourceVersion())
		_, err = res.Update(ctx, obj, metav1.UpdateOptions{})
	}
	if err != nil {
		return Result{}, err // a conflict retries from the list
	}
	return Result{Name: name, Added: added, Total: len(included), Version: version + 1, Diff: delta}, nil
}

// annotateConfidence writes in how many of the merged runs each entry
// was seen, and the Good–Turing estimate of a syscall no run made.
func annotateConfidence(ann map[string]string, p *profiles.Profile) error {
	n := 1
	if p.Recorded != nil {
		n = max(p.Recorded.Recordings, 1)
	}
	seen := map[string]string{}
	for _, s := range p.Syscalls {
		if k := profiles.EntryRuns(s); k > 0 {
			seen[profiles.FormatCall(s)] = fmt.Sprintf("%d of %d", k, n)
		}
	}
	b, err := json.Marshal(seen)
	if err != nil {
		return err
	}
	ann[spo.AnnotationSeen] = string(b)
	if c := profiles.ComputeConfidence(p); c != nil {
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		ann[spo.AnnotationConfidence] = string(b)
	}
	return nil
}
