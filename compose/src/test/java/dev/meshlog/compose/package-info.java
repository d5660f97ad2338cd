/** Tests of the container images (opened from their tars, without Docker) and of the compose files. */
package dev.meshlog.compose;
