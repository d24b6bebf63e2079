package dev.resnetzoo.core.onednn;

import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size;

import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One argument of a primitive: the INDArray's plain layout, the layout oneDNN chose, and the
 * reorder between them (none when they are equal, so the primitive reads or writes the array in place).
 */
final class Operand {
    private final dnnl_memory user;
    private final dnnl_memory inner;
    private final dnnl_primitive reorder;
    private final int slot;
    private final long innerBytes;
    private final boolean input;

    private Operand(dnnl_memory_desc_t userDesc, dnnl_memory_desc_t chosen, int slot, boolean input, String what,
                    Handles handles) {
        this.user = handles.add(OneDnn.unbound(userDesc));
        this.slot = slot;
        this.input = input;
        if (OneDnn.same(userDesc, chosen)) {
            inner = null;
            reorder = null;
            innerBytes = 0;
        } else {
            inner = handles.add(OneDnn.unbound(chosen));
            reorder = handles.add(input ? OneDnn.reorder(userDesc, chosen, what) : OneDnn.reorder(chosen, userDesc, what));
            innerBytes = dnnl_memory_desc_get_size(chosen);
        }
    }

    /** An argument the primitive reads: reordered from the array before the call. */
    static Operand in(dnnl_memory_desc_t userDesc, dnnl_memory_desc_t chosen, int slot, String what, Handles h) {
        return new Operand(userDesc, chosen, slot, true, what, h);
    }

    /** An argument the primitive writes: reordered into the array by {@link #flush()}. */
    static Operand out(dnnl_memory_desc_t userDesc, dnnl_memory_desc_t chosen, int slot, String what, Handles h) {
        return new Operand(userDesc, chosen, slot, false, what, h);
    }

    /** Binds the array and returns the memory to hand to the primitive. */
    dnnl_memory bind(INDArray a) {
        OneDnn.bind(user, a);
        if (inner == null) {
            return user;
        }
        Scratch.bind(inner, slot, innerBytes);
        if (input) {
            OneDnn.reorder(reorder, user, inner);
        }
        return inner;
    }

    /** After the primitive ran: copies an output into the array if it was computed elsewhere. */
    void flush() {
        if (inner != null && !input) {
            OneDnn.reorder(reorder, inner, user);
        }
    }
}
