package kv

// mergePatchObject applies the JSON merge patch (RFC 7386) patch to the
// object target and returns the result. target may be modified in place;
// patch is never modified nor aliased by the result.
func mergePatchObject(target, patch map[string]any) map[string]any {
	if target == nil {
		target = make(map[string]any, len(patch))
	}
	for k, pv := range patch {
		if pv == nil {
			delete(target, k)
			continue
		}
		target[k] = mergePatchValue(target[k], pv)
	}
	return target
}

// mergePatchValue is RFC 7386's MergePatch(Target, Patch) for any value.
func mergePatchValue(target, patch any) any {
	po, ok := patch.(map[string]any)
	if !ok {
		return clonePatchValue(patch)
	}
	to, _ := target.(map[string]any)
	return mergePatchObject(to, po)
}

// clonePatchValue copies arrays from the patch so that the result shares no
// mutable state with the request. Objects inside arrays are copied as-is
// (merge patch does not recurse into arrays; nulls inside them are kept).
func clonePatchValue(v any) any {
	a, ok := v.([]any)
	if !ok {
		return v
	}
	out := make([]any, len(a))
	for i, x := range a {
		if m, isMap := x.(map[string]any); isMap {
			out[i] = cloneObject(m)
		} else {
			out[i] = clonePatchValue(x)
		}
	}
	return out
}

func cloneObject(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if inner, ok := v.(map[string]any); ok {
			out[k] = cloneObject(inner)
		} else {
			out[k] = clonePatchValue(v)
		}
	}
	return out
}
