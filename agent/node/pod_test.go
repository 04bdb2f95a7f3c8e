package node

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodCgroup(t *testing.T) {
	for _, tc := range []struct {
		driver, qos, want, wantErr string
	}{
		{DriverCgroupfs, "besteffort", "kubepods/besteffort/poda-b-c", ""},
		{DriverCgroupfs, "burstable", "kubepods/burstable/poda-b-c", ""},
		{DriverCgroupfs, "guaranteed", "kubepods/poda-b-c", ""},
		{DriverSystemd, "besteffort", "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda_b_c.slice", ""},
		{DriverSystemd, "guaranteed", "kubepods.slice/kubepods-poda_b_c.slice", ""},
		{DriverSystemd, "", "", `unknown qos class ""`},
		{"cri-o", "besteffort", "", `unknown cgroup driver "cri-o"`},
	} {
		got, err := PodCgroup(tc.driver, Pod{UID: "a-b-c", QOS: tc.qos})
		if got != tc.want || (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("PodCgroup(%s, %s) = %q, %v; want %q, %q", tc.driver, tc.qos, got, err, tc.want, tc.wantErr)
		}
	}
	if _, err := PodCgroup(DriverCgroupfs, Pod{UID: "../x", QOS: "besteffort"}); err == nil {
		t.Error("a uid with a slash named a cgroup")
	}
}

func TestPodFromAPI(t *testing.T) {
	yes := true
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{UID: "u1", Namespace: "shop", Name: "web-7d9-x", Labels: map[string]string{LabelRecord: "true"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-7d9", Controller: &yes}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}, {Name: "proxy"}, {Name: "log"}}},
		Status: corev1.PodStatus{QOSClass: corev1.PodQOSBestEffort, ContainerStatuses: []corev1.ContainerStatus{
			{Name: "app", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}},
			{Name: "proxy", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}},
			{Name: "log", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{}}},
		}},
	}
	got := PodFromAPI(p)
	want := Pod{UID: "u1", Namespace: "shop", Name: "web-7d9-x", Labels: p.Labels, Owner: "web-7d9", QOS: "besteffort",
		Containers: []Container{{"app", Exited}, {"proxy", Running}, {"log", Waiting}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PodFromAPI = %+v, want %+v", got, want)
	}
	if !got.OptedIn() || got.Recording() != "web-7d9" || got.finished() {
		t.Errorf("opted in %v, recording %q, finished %v", got.OptedIn(), got.Recording(), got.finished())
	}
}
