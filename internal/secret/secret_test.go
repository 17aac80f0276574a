package secret_test

import (
	"testing"

	"github.com/edgeprivacy/edge/internal/secret"
)

func TestEqual(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"s3cret", "s3cret", true},
		{"", "", true},
		{"s3cret", "s3cres", false},
		{"s3cret", "s3cre", false},
		{"s3cret", "s3cret!", false},
		{"s3cret", "", false},
		{"", "s3cret", false},
	} {
		if got := secret.Equal(c.a, c.b); got != c.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
