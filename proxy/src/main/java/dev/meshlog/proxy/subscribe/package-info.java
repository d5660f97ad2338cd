/** Config from Kafka: discovery views in, ACK/NACK and registration out, last good snapshot on disk; never on an event loop. */
package dev.meshlog.proxy.subscribe;
