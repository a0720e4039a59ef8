/*
 * container_of.h: the struct that embeds a member, from the member's
 * address. Handles are embedded in their owner (libuv's habit) and the
 * callbacks get the handle, so every part finds its owner back this way.
 */
#ifndef TALLY_CONTAINER_OF_H
#define TALLY_CONTAINER_OF_H

#include <stddef.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif
