/** End-to-end tests: proxies as processes, the control plane and the pipeline on a real broker. */
package dev.meshlog.e2e;
