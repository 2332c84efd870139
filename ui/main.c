/* main.c — placeholder entry point until the front end lands. */
int main(void) { return 0; }
