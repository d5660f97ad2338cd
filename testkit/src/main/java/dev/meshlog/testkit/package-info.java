/** A real Kafka broker for tests and for the local mesh, and the JUnit 5 extension that shares it. */
package dev.meshlog.testkit;
