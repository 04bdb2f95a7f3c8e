package merge

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/sysrec/sysrec/agent/spo"
)

// Controller merges each workload's partials as they appear.
type Controller struct {
	Client dynamic.Interface
	// Merged, when set, is called after each Merge that wrote.
	Merged func(Result)
	// Errorf reports a failed merge (retried with backoff).
	Errorf func(format string, args ...any)
	// Resync is how often every partial is looked at again (0: 10 min):
	// a merged profile deleted to narrow it comes back from the
	// partials then.
	Resync time.Duration
}

// Run watches partials and merges until ctx is done. The watch is
// re-established by client-go's reflector when the API server goes away.
func (c *Controller) Run(ctx context.Context) error {
	resync := c.Resync
	if resync == 0 {
		resync = 10 * time.Minute
	}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(c.Client, resync, metav1.NamespaceAll, func(o *metav1.ListOptions) {
		o.LabelSelector = spo.LabelPartial + "=true,!" + spo.LabelIncomplete
	})
	informer := factory.ForResource(spo.Resource).Informer()
	queue := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[spo.Workload]())
	defer queue.ShutDown()
	enqueue := func(obj any) {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			if w, err := spo.WorkloadOf(u); err == nil {
				queue.Add(w)
			}
		}
	}
	if _, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	}); err != nil {
		return fmt.Errorf("watch partials: %w", err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	go func() {
		<-ctx.Done()
		queue.ShutDown()
	}()
	for {
		w, quit := queue.Get()
		if quit {
			return nil
		}
		res, err := Merge(ctx, c.Client, w)
		switch {
		case err != nil:
			if c.Errorf != nil && ctx.Err() == nil {
				c.Errorf("%v", err)
			}
			queue.AddRateLimited(w)
		default:
			queue.Forget(w)
			if res.Added > 0 && c.Merged != nil {
				c.Merged(res)
			}
		}
		queue.Done(w)
	}
}
