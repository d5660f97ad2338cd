/** Test support shared by config-service's and meshctl's integration tests: the real control plane. */
package dev.meshlog.config.testing;
