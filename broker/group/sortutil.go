package group

import "sort"

func sortStrings(s []string) { sort.Strings(s) }

func sortPartitions(ps []fetchedPartition) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].partition < ps[j].partition })
}
