package mem_test

import (
	"testing"

	"github.com/strata-io/strata/objstore/mem"
	"github.com/strata-io/strata/objstore/objstoretest"
)

func TestAcceptance(t *testing.T) {
	objstoretest.Run(t, mem.New())
}
