/** The mesh's event contract: typed topics, Avro serdes and the released schema history. */
package dev.meshlog.schemas;
