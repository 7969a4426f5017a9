// TEMPORARY placeholders until the per-library clients land.
package compat

func NewSarama(addr string) (Client, error)     { return newFranz(addr) }
func NewKafkaGo(addr string) (Client, error)    { return newFranz(addr) }
func NewLibrdkafka(addr string) (Client, error) { return newFranz(addr) }
