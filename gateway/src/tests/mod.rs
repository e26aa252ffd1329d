mod candid_interface;
