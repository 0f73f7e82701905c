/*
 * The program `make demo` runs under rcleak: a tiny key=value parser with
 * the classic bugs. Expected report: the entry list leaked on the error
 * path (one entry: the struct, its key and its value, all counted as
 * definitely lost for now), one double free, and exit status 23.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char *key;
	char *value;
	struct entry *next;
};

static struct entry *parse_line(const char *line)
{
	struct entry *e = malloc(sizeof(*e));
	const char *eq = strchr(line, '=');

	e->key = strndup(line, (size_t)(eq - line));
	e->value = strdup(eq + 1);
	e->next = NULL;
	return e;
}

static int load(const char *const *lines, int n)
{
	struct entry *head = NULL;

	for (int i = 0; i < n; i++) {
		if (strchr(lines[i], '=') == NULL) {
			fprintf(stderr, "leaky: bad line '%s'\n", lines[i]);
			return -1; /* forgets to free the list: a leak */
		}
		struct entry *e = parse_line(lines[i]);
		e->next = head;
		head = e;
	}
	while (head) {
		struct entry *next = head->next;
		free(head->key);
		free(head->value);
		free(head);
		head = next;
	}
	return 0;
}

int main(void)
{
	static const char *const good[] = {"name=rcleak", "speed=fast"};
	static const char *const bad[] = {"colour=blue", "oops"};
	char *scratch = malloc(16);

	printf("good config: %d\n", load(good, 2));
	printf("bad config: %d\n", load(bad, 2));
	free(scratch);
	free(scratch); /* double free: rcleak reports it and ignores it */
	return 0;
}
