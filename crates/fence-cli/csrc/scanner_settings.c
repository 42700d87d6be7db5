/*
 * libpg_query keeps PostgreSQL's scanner settings in thread-local globals that its Rust
 * binding does not expose; fence's CLI sets standard_conforming_strings through this one
 * function to read SQL as a session with that setting would.
 */
#include <stdbool.h>

extern __thread bool standard_conforming_strings;

void
fence_set_standard_conforming_strings(bool on)
{
	standard_conforming_strings = on;
}
