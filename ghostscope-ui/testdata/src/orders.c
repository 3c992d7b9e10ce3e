#include <stdio.h>
#include <unistd.h>

/* An order as the shop keeps it. */
struct order {
    int id;
    double total;
    const char *customer;
};

static int update_order(struct order *o, double amount)
{
    o->total += amount;   // grows with every item
    return o->id;
}

int place_order(struct order *o)
{
    printf("placing order %d for %s\n", o->id, o->customer);
    return update_order(o, 1.5);
}

int main(void)
{
    struct order o = { 42, 0.0, "alice" };
    for (;;) {
        place_order(&o);
        sleep(1);
    }
    return 0;
}
