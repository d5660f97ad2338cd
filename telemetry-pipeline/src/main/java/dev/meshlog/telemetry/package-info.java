/** The telemetry pipeline: request events aggregated into per-edge metrics per time window. */
package dev.meshlog.telemetry;
