/* orderd: a tiny stand-in for a service, to try ghostscope on.
 * It accepts an order every 100 ms, prices it and ships some of them. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum order_state { ORDER_NEW, ORDER_PAID, ORDER_SHIPPED };

struct customer {
    int id;
    char name[16];
};

struct order {
    long id;
    int qty;
    double price;
    enum order_state state;
    struct customer *customer;
};

static struct customer customers[] = {{1, "Alice"}, {2, "Bob"}, {3, "Carol"}};
long total_revenue_cents = 0;
int orders_seen = 0;

__attribute__((noinline)) long price_order(const struct order *o, int discount_pct) {
    long cents = (long)(o->price * 100) * o->qty;
    return cents - cents * discount_pct / 100;
}

__attribute__((noinline)) bool ship_order(struct order *o, const char *carrier) {
    o->state = ORDER_SHIPPED;
    return carrier[0] != '\0' && o->customer->name[0] != '\0';
}

__attribute__((noinline)) void process_order(struct order *o, bool express) {
    o->state = ORDER_PAID;
    total_revenue_cents += price_order(o, express ? 0 : 5);
    orders_seen++;
    if (o->qty > 2)
        ship_order(o, express ? "express" : "ground");
}

int main(void) {
    printf("orderd running, pid %d\n", getpid());
    fflush(stdout);
    for (long n = 1;; n++) {
        struct order o = {
            .id = 1000 + n,
            .qty = (int)(n % 5),
            .price = 9.5 + (double)(n % 3),
            .state = ORDER_NEW,
            .customer = &customers[n % 3],
        };
        process_order(&o, n % 4 == 0);
        usleep(100000);
    }
}
