// A first look at orderd: every order as it is processed.
trace process_order {
    print "order {} x{} for {}", o.id, o.qty, o.customer.name;
    if express {
        print "  express!";
    }
}

// Shipping only happens for larger orders.
trace ship_order {
    print "shipping order {} via {:s.16}", o.id, carrier;
}
