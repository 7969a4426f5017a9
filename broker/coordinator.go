package broker

// coordinatorsChanged is called after the set of live brokers changed.
func (b *Broker) coordinatorsChanged() {}
