package node

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// InformerSource is the production PodSource: a shared informer on the
// API server's pods, filtered by spec.nodeName. Its reflector lists
// again and re-watches when the API server goes away.
type InformerSource struct {
	Client kubernetes.Interface
	Node   string
	// Resync is how often every pod is sent again (0: 10 min).
	Resync time.Duration
}

// Run implements PodSource.
func (s InformerSource) Run(ctx context.Context, out chan<- Pod) error {
	resync := s.Resync
	if resync == 0 {
		resync = 10 * time.Minute
	}
	factory := informers.NewSharedInformerFactoryWithOptions(s.Client, resync, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", s.Node).String()
	}))
	send := func(obj any, deleted bool) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		p, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		pod := PodFromAPI(p)
		pod.Deleted = pod.Deleted || deleted
		select {
		case out <- pod:
		case <-ctx.Done():
		}
	}
	if _, err := factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { send(obj, false) },
		UpdateFunc: func(_, obj any) { send(obj, false) },
		DeleteFunc: func(obj any) { send(obj, true) },
	}); err != nil {
		return fmt.Errorf("watch pods: %w", err)
	}
	factory.Start(ctx.Done())
	<-ctx.Done()
	factory.Shutdown()
	return nil
}

// PodFromAPI is what the agent needs of p.
func PodFromAPI(p *corev1.Pod) Pod {
	pod := Pod{UID: string(p.UID), Namespace: p.Namespace, Name: p.Name, Labels: p.Labels,
		QOS: strings.ToLower(string(p.Status.QOSClass)), Deleted: p.DeletionTimestamp != nil}
	if ref := metav1.GetControllerOf(p); ref != nil {
		pod.Owner = ref.Name
	}
	states := map[string]State{}
	for _, cs := range p.Status.ContainerStatuses {
		switch {
		case cs.State.Running != nil:
			states[cs.Name] = Running
		case cs.State.Terminated != nil:
			states[cs.Name] = Exited
		case cs.LastTerminationState.Terminated != nil:
			states[cs.Name] = Exited // waiting to restart: it ran
		}
	}
	for _, c := range p.Spec.Containers {
		pod.Containers = append(pod.Containers, Container{Name: c.Name, State: states[c.Name]})
	}
	return pod
}
