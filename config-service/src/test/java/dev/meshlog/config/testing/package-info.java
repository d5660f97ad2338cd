/** Test support shared by config-service's and meshctl's integration tests: the real control plane, a git server asking for credentials. */
package dev.meshlog.config.testing;
