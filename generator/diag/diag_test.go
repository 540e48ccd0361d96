package diag

import "testing"

func TestProblemString(t *testing.T) {
	for _, tc := range []struct {
		p    Problem
		want string
	}{
		{Problem{Location{"w.yaml", 14}, "taskGroups[2].executor", "bad", false}, "w.yaml:14: taskGroups[2].executor: bad"},
		{Problem{Location{"w.yaml", 0}, "x", "bad", true}, "w.yaml: warning: x: bad"},
		{Problem{Message: "bad"}, "bad"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestListErr(t *testing.T) {
	l := List{{Path: "b", Message: "w", Warning: true}}
	if l.Err() != nil {
		t.Fatalf("warnings alone must not be an error")
	}
	l = append(l, Problem{Location: Location{"f", 2}, Path: "a", Message: "e"})
	l.Sort()
	if got, want := l.Err().Error(), "f:2: a: e"; got != want {
		t.Errorf("Err() = %q, want %q", got, want)
	}
}
