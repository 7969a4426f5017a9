package broker

import "fmt"

const maxTopicNameLen = 249

// validateTopicName applies Kafka's rules: non-empty, not "." or "..", at
// most 249 characters of [a-zA-Z0-9._-].
func validateTopicName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("topic name is empty")
	case name == "." || name == "..":
		return fmt.Errorf("topic name cannot be %q", name)
	case len(name) > maxTopicNameLen:
		return fmt.Errorf("topic name is %d characters, longer than the maximum %d", len(name), maxTopicNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic name %q contains %q; only ASCII alphanumerics, '.', '_' and '-' are allowed", name, c)
		}
	}
	return nil
}
