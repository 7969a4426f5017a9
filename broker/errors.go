package broker

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/strata-io/strata/broker/partlog"
	"github.com/strata-io/strata/metastore"
)

// errorCodes maps internal errors to the Kafka error code a client gets.
// It is the one place this mapping lives; a Go error never reaches the
// wire, only its code (and, where the API has one, a message).
var errorCodes = []struct {
	err  error
	code int16
}{
	{partlog.ErrOutOfOrderSequence, kerr.OutOfOrderSequenceNumber.Code},
	{partlog.ErrInvalidProducerEpoch, kerr.InvalidProducerEpoch.Code},
	{partlog.ErrCorruptBatch, kerr.CorruptMessage.Code},
	{partlog.ErrOffsetOutOfRange, kerr.OffsetOutOfRange.Code},
	{partlog.ErrClosed, kerr.NotLeaderForPartition.Code},
	{metastore.ErrNotFound, kerr.UnknownTopicOrPartition.Code},
	{metastore.ErrExists, kerr.TopicAlreadyExists.Code},
	{errTopicExists, kerr.TopicAlreadyExists.Code},
	{metastore.ErrConflict, kerr.ConcurrentTransactions.Code},
	{context.DeadlineExceeded, kerr.RequestTimedOut.Code},
	{context.Canceled, kerr.RequestTimedOut.Code},
}

// errorCode returns the Kafka error code for err: 0 for nil, the mapped
// code for known errors, KAFKA_STORAGE_ERROR for anything else (an I/O
// failure underneath the log or the metastore).
func errorCode(err error) int16 {
	if err == nil {
		return 0
	}
	for _, e := range errorCodes {
		if errors.Is(err, e.err) {
			return e.code
		}
	}
	if metastore.IsTransient(err) {
		return kerr.RequestTimedOut.Code
	}
	return kerr.KafkaStorageError.Code
}

// adminErrorCode is the code for a failed metadata change: retriable
// REQUEST_TIMED_OUT while etcd is electing a leader or unreachable (as
// Kafka answers when its controller does not finish in time), else
// UNKNOWN_SERVER_ERROR.
func adminErrorCode(err error) int16 {
	if metastore.IsTransient(err) {
		return kerr.RequestTimedOut.Code
	}
	return kerr.UnknownServerError.Code
}
