/* The README's bundled example: a tiny C program with a fixed-size local
 * buffer filled by strcpy and printed by printf, so that stack protector and
 * FORTIFY have something to instrument in the hardened dynamic build. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
	char name[32];
	const char *who = argc > 1 ? argv[1] : "zerodep";
	if (strlen(who) >= sizeof name)
		return 2;
	strcpy(name, who);
	printf("hello, %s\n", name);
	return 0;
}
