// Command psa-oracle is the reference for zerodep's Pod Security checks (issue #16): it runs
// k8s.io/pod-security-admission's own evaluator, the code the Kubernetes API server runs, on pods
// read as JSON lines from stdin ({"metadata":…,"spec":…,"level":"restricted","version":"latest"}) and
// prints one JSON line per input: {"allowed":bool,"reasons":[…],"details":[…]} in PSA's order, or
// {"error":"…"} when the line does not decode into the API types.
//
// Pods are decoded the way the API server decodes them: case-sensitive field names, unknown fields
// dropped (sigs.k8s.io/json, as k8s.io/apimachinery's JSON serializer does).
//
// A line {"yaml":"…"} instead asks how kubectl reads one YAML document (sigs.k8s.io/yaml, go-yaml v2
// with YAML 1.1 rules): {"json":…} from YAMLToJSON, and "strictError" when YAMLToJSONStrict refuses it
// (duplicate keys), or {"error":"…"} when neither reads it.
//
// A line {"decode":{…manifest…}} decodes a manifest strictly into its k8s.io/api type (by apiVersion
// and kind: v1 Pod, Service, ConfigMap, ServiceAccount; apps/v1 Deployment, StatefulSet, DaemonSet,
// ReplicaSet; batch/v1 Job, CronJob), as the API server's strict field validation does:
// {"decodeErrors":[…]} lists unknown and duplicate fields (empty when none), {"error":"…"} when it
// does not decode at all or the kind is not one of those.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

type input struct {
	YAML     *string         `json:"yaml"`
	Decode   json.RawMessage `json:"decode"`
	Metadata json.RawMessage `json:"metadata"`
	Spec     json.RawMessage `json:"spec"`
	Level    string          `json:"level"`
	Version  string          `json:"version"`
}

type output struct {
	Allowed     bool            `json:"allowed"`
	Reasons     []string        `json:"reasons"`
	Details     []string        `json:"details"`
	JSON        json.RawMessage `json:"json,omitempty"`
	StrictError string          `json:"strictError,omitempty"`
	// Set (possibly empty) for a decode request.
	DecodeErrors *[]string `json:"decodeErrors,omitempty"`
	Error        string    `json:"error,omitempty"`
}

func main() {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		line := in.Bytes()
		if len(line) == 0 {
			continue
		}
		if err := enc.Encode(evaluate(evaluator, line)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}

func evaluate(evaluator policy.Evaluator, line []byte) output {
	var req input
	if err := json.Unmarshal(line, &req); err != nil {
		return output{Error: "request: " + err.Error()}
	}
	if len(req.Decode) > 0 {
		return decode(req.Decode)
	}
	if req.YAML != nil {
		j, err := yaml.YAMLToJSON([]byte(*req.YAML))
		if err != nil {
			return output{Error: err.Error()}
		}
		res := output{JSON: j}
		if _, err := yaml.YAMLToJSONStrict([]byte(*req.YAML)); err != nil {
			res.StrictError = err.Error()
		}
		return res
	}
	var meta metav1.ObjectMeta
	var spec corev1.PodSpec
	if len(req.Metadata) > 0 {
		if err := kjson.UnmarshalCaseSensitivePreserveInts(req.Metadata, &meta); err != nil {
			return output{Error: "metadata: " + err.Error()}
		}
	}
	if len(req.Spec) > 0 {
		if err := kjson.UnmarshalCaseSensitivePreserveInts(req.Spec, &spec); err != nil {
			return output{Error: "spec: " + err.Error()}
		}
	}
	level, err := api.ParseLevel(req.Level)
	if err != nil {
		return output{Error: "level: " + err.Error()}
	}
	version := req.Version
	if version == "" {
		version = "latest"
	}
	v, err := api.ParseVersion(version)
	if err != nil {
		return output{Error: "version: " + err.Error()}
	}
	agg := policy.AggregateCheckResults(evaluator.EvaluatePod(api.LevelVersion{Level: level, Version: v}, &meta, &spec))
	res := output{Allowed: agg.Allowed, Reasons: agg.ForbiddenReasons, Details: agg.ForbiddenDetails}
	if res.Reasons == nil {
		res.Reasons = []string{}
		res.Details = []string{}
	}
	return res
}

func decode(data []byte) output {
	var tm metav1.TypeMeta
	if err := json.Unmarshal(data, &tm); err != nil {
		return output{Error: "decode: " + err.Error()}
	}
	var obj interface{}
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 Pod":
		obj = &corev1.Pod{}
	case "v1 Service":
		obj = &corev1.Service{}
	case "v1 ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1 ServiceAccount":
		obj = &corev1.ServiceAccount{}
	case "apps/v1 Deployment":
		obj = &appsv1.Deployment{}
	case "apps/v1 StatefulSet":
		obj = &appsv1.StatefulSet{}
	case "apps/v1 DaemonSet":
		obj = &appsv1.DaemonSet{}
	case "apps/v1 ReplicaSet":
		obj = &appsv1.ReplicaSet{}
	case "batch/v1 Job":
		obj = &batchv1.Job{}
	case "batch/v1 CronJob":
		obj = &batchv1.CronJob{}
	default:
		return output{Error: fmt.Sprintf("decode: unknown apiVersion/kind %q %q", tm.APIVersion, tm.Kind)}
	}
	strict, err := kjson.UnmarshalStrict(data, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return output{Error: "decode: " + err.Error()}
	}
	msgs := []string{}
	for _, e := range strict {
		msgs = append(msgs, e.Error())
	}
	return output{DecodeErrors: &msgs}
}
